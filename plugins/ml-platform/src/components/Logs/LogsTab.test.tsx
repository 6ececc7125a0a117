import { ModelLogLine } from '@internal/plugin-ml-platform-common';
import { act, fireEvent, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { mockMlPlatformApi, renderForEntity } from '../../__testUtils__';
import { EntityMlPlatformContent } from '../EntityMlPlatformContent';

jest.setTimeout(20_000);

const line = (
  id: number,
  text: string,
  overrides: Partial<ModelLogLine> = {},
) =>
  ({
    id,
    source: 'deployment',
    subjectId: 'dep-online-1',
    version: 2,
    time: new Date(Date.UTC(2026, 11, 3, 10, 0, id)).toISOString(),
    level: 'info',
    stream: 'churn-0',
    line: text,
    ...overrides,
  } as ModelLogLine);

const ref = { namespace: 'default', name: 'churn' };

describe('Logs tab', () => {
  it('searches by source, level and text', async () => {
    const api = mockMlPlatformApi({
      searchLogs: async (_ref, query) =>
        query?.level === 'error'
          ? {
              items: [
                line(5, 'ERROR: model failed to load', { level: 'error' }),
              ],
              lastId: 5,
            }
          : {
              items: [
                line(1, 'serving on :8080'),
                line(2, 'WARNING: slow', { level: 'warn' }),
              ],
              lastId: 2,
            },
    });
    await renderForEntity(<EntityMlPlatformContent />, {
      api,
      route: '/?tab=logs',
    });
    expect(await screen.findByText(/serving on :8080/)).toBeInTheDocument();
    expect(
      screen.getByText(/\[deployment v2 churn-0\] WARNING: slow/),
    ).toHaveAttribute('data-level', 'warn');

    fireEvent.mouseDown(screen.getByLabelText('Level'));
    await userEvent.click(
      await screen.findByRole('option', { name: 'Errors' }),
    );
    expect(
      await screen.findByText(/ERROR: model failed to load/),
    ).toBeInTheDocument();
    expect(screen.queryByText(/serving on/)).toBeNull();

    await userEvent.type(screen.getByLabelText('Search'), 'load');
    await waitFor(() =>
      expect(api.searchLogs).toHaveBeenLastCalledWith(ref, {
        level: 'error',
        q: 'load',
        source: undefined,
      }),
    );
  });

  it('follows: new lines after the last one are appended', async () => {
    jest.useFakeTimers({ advanceTimers: true });
    try {
      const api = mockMlPlatformApi({
        searchLogs: async (_ref, query) => {
          if (query?.after === 2) {
            return { items: [line(3, 'request handled')], lastId: 3 };
          }
          if (query?.after === 3) return { items: [], lastId: 3 };
          return { items: [line(1, 'starting'), line(2, 'ready')], lastId: 2 };
        },
      });
      await renderForEntity(<EntityMlPlatformContent />, {
        api,
        route: '/?tab=logs',
      });
      await screen.findByText(/ready/);
      await userEvent.click(screen.getByLabelText('Follow'));
      await act(async () => {
        jest.advanceTimersByTime(2100);
      });
      expect(await screen.findByText(/request handled/)).toBeInTheDocument();
      expect(api.searchLogs).toHaveBeenCalledWith(ref, {
        source: undefined,
        level: undefined,
        q: undefined,
        after: 2,
      });
      expect(
        screen.getAllByText(/starting|ready|request handled/),
      ).toHaveLength(3);
    } finally {
      jest.useRealTimers();
    }
  });
});
