import { ModelActivity } from '@internal/plugin-ml-platform-common';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  NOT_AN_OWNER,
  mockMlPlatformApi,
  renderForEntity,
  responseError,
} from '../../__testUtils__';
import { ActivityTab } from './ActivityTab';

/** The model's history as the API pages it: 45 entries, newest first. */
const history: ModelActivity[] = Array.from({ length: 45 }, (_, i) => {
  const n = 45 - i;
  const refused = n % 10 === 0;
  return {
    id: String(n),
    modelRef: 'component:default/churn',
    action: refused ? 'deployment.delete' : 'deployment.scale',
    actor: refused ? 'user:default/bob' : 'user:default/ada',
    outcome: refused ? 'refused' : 'succeeded',
    message: refused ? NOT_AN_OWNER : `Scale to ${n}: ${n} replica(s)`,
    subjectId: 'd-1',
    requestId: `r-${n}`,
    createdAt: new Date(Date.UTC(2026, 11, 1, 10, 0, n)).toISOString(),
  };
});

function renderActivity(api: ReturnType<typeof mockMlPlatformApi>) {
  return renderForEntity(<ActivityTab />, { api });
}

// A page of 20 table rows takes a while to render on a busy machine.
jest.setTimeout(20_000);

describe('Activity tab', () => {
  it('shows a page of who did what, when, and how it ended; pages through the rest', async () => {
    const api = mockMlPlatformApi({
      listActivity: async (_ref, page) => ({
        items: history.slice(page!.offset, page!.offset! + page!.limit!),
        totalCount: history.length,
      }),
    });
    await renderActivity(api);

    expect(await screen.findByText('Scale to 45: 45 replica(s)')).toBeVisible();
    expect(api.listActivity).toHaveBeenCalledWith(
      { namespace: 'default', name: 'churn' },
      { limit: 20, offset: 0 },
    );
    const rows = screen
      .getAllByRole('row')
      .filter(r => within(r).queryByText(/Scale to|not an owner/));
    expect(rows).toHaveLength(20);
    // A refused attempt: who tried, what, and the policy's reason.
    const refused = screen.getAllByText(NOT_AN_OWNER)[0].closest('tr')!;
    expect(within(refused).getByText('Undeploy')).toBeInTheDocument();
    expect(within(refused).getByText('refused')).toBeInTheDocument();
    expect(within(refused).getByRole('link', { name: 'bob' })).toHaveAttribute(
      'href',
      '/catalog/default/user/bob',
    );
    expect(screen.getAllByText('1-20 of 45').length).toBeGreaterThan(0);

    await userEvent.click(screen.getByRole('button', { name: 'Next Page' }));
    expect(await screen.findByText('Scale to 25: 25 replica(s)')).toBeVisible();
    expect(api.listActivity).toHaveBeenLastCalledWith(
      { namespace: 'default', name: 'churn' },
      { limit: 20, offset: 20 },
    );
    expect(screen.queryByText('Scale to 45: 45 replica(s)')).toBeNull();
    expect(screen.getAllByText('21-40 of 45').length).toBeGreaterThan(0);
  });

  it('says when nothing happened yet, and shows the API error', async () => {
    const empty = mockMlPlatformApi({
      listActivity: async () => ({ items: [], totalCount: 0 }),
    });
    const { unmount } = await renderActivity(empty);
    expect(
      await screen.findByText(/Nothing has changed yet/),
    ).toBeInTheDocument();
    unmount();

    const failing = mockMlPlatformApi({
      listActivity: async () =>
        Promise.reject(await responseError(500, 'database is down', 'Error')),
    });
    await renderActivity(failing);
    await waitFor(() =>
      expect(screen.getAllByText(/database is down/).length).toBeGreaterThan(0),
    );
  });
});
