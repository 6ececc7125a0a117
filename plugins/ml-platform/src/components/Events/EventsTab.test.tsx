import { PredictionEvent } from '@internal/plugin-ml-platform-common';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { mockMlPlatformApi, renderForEntity } from '../../__testUtils__';
import { EntityMlPlatformContent } from '../EntityMlPlatformContent';

jest.setTimeout(20_000);

const event = (n: number, overrides: Partial<PredictionEvent> = {}) =>
  ({
    id: `req-${n}`,
    time: new Date(Date.UTC(2026, 11, 3, 10, 0, n)).toISOString(),
    modelRef: 'component:default/churn',
    version: 2,
    buildId: 'b2',
    deploymentId: 'dep-online-1',
    caller: 'service:fraud-service',
    callerKind: 'service',
    trigger: 'http',
    route: 'records',
    latencyMs: 3.25,
    status: 200,
    rows: 1,
    sampled: true,
    request: { dataframe_records: [{ tenure_months: n, email: '[redacted]' }] },
    response: { predictions: [{ churn_probability: 0.25 }] },
    ...overrides,
  } as PredictionEvent);

const ref = { namespace: 'default', name: 'churn' };

describe('Events tab', () => {
  it('lists events, filters them, pages to older ones and shows one event’s request and response', async () => {
    const api = mockMlPlatformApi({
      listPredictionEvents: async (_ref, query) => {
        if (query?.status === 'error') {
          return {
            items: [
              event(9, {
                status: 503,
                error: 'no ready replica',
                sampled: false,
                request: undefined,
                response: undefined,
              }),
            ],
          };
        }
        return query?.cursor
          ? { items: [event(1)] }
          : { items: [event(3), event(2)], nextCursor: 'c1' };
      },
    });
    await renderForEntity(<EntityMlPlatformContent />, {
      api,
      route: '/?tab=events',
    });

    expect(await screen.findAllByText('3.3 ms')).toHaveLength(2);
    expect(api.listPredictionEvents).toHaveBeenCalledWith(ref, {
      limit: 50,
      cursor: undefined,
    });
    await userEvent.click(screen.getByRole('button', { name: 'Older events' }));
    await waitFor(() =>
      expect(api.listPredictionEvents).toHaveBeenLastCalledWith(ref, {
        limit: 50,
        cursor: 'c1',
      }),
    );
    await waitFor(() =>
      expect(screen.getAllByText('service:fraud-service')).toHaveLength(3),
    );

    // One event: its request (redacted by the backend) and response.
    await userEvent.click(screen.getAllByText('service:fraud-service')[0]);
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByText('Event req-3')).toBeInTheDocument();
    await waitFor(() => {
      expect(dialog.textContent).toContain('"email": "[redacted]"');
      expect(dialog.textContent).toContain('"churn_probability": 0.25');
    });
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Close' }),
    );

    // Filter: failed calls only.
    fireEvent.mouseDown(screen.getByLabelText('Status'));
    await userEvent.click(
      await screen.findByRole('option', { name: 'Failed (4xx and 5xx)' }),
    );
    expect(
      await screen.findByText('503: no ready replica'),
    ).toBeInTheDocument();
    expect(api.listPredictionEvents).toHaveBeenLastCalledWith(ref, {
      status: 'error',
      limit: 50,
      cursor: undefined,
    });
    await userEvent.click(screen.getByText('503: no ready replica'));
    expect(
      await screen.findAllByText(
        /not sampled \(mlPlatform\.events\.sampleRate\)/,
      ),
    ).toHaveLength(2);
  });

  it('says why a sampled event has no request: refused before its body was read', async () => {
    const api = mockMlPlatformApi({
      listPredictionEvents: async () => ({
        items: [
          event(4, {
            status: 400,
            error: 'body: expected a JSON object',
            request: undefined,
            response: undefined,
          }),
        ],
      }),
    });
    await renderForEntity(<EntityMlPlatformContent />, {
      api,
      route: '/?tab=events',
    });
    await userEvent.click(
      await screen.findByText('400: body: expected a JSON object'),
    );
    const dialog = await screen.findByRole('dialog');
    expect(dialog.textContent).toContain(
      'None: the call was refused before its body was read.',
    );
    expect(dialog.textContent).toContain('None: the model did not answer.');
    expect(dialog.textContent).not.toContain('not sampled');
  });

  it('says what to do when there are none', async () => {
    const api = mockMlPlatformApi({
      listPredictionEvents: async () => ({ items: [] }),
    });
    await renderForEntity(<EntityMlPlatformContent />, {
      api,
      route: '/?tab=events',
    });
    expect(
      await screen.findByText(
        /No prediction events match: call the model from the Try it tab/,
      ),
    ).toBeInTheDocument();
  });
});
