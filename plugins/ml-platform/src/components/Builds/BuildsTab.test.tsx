import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  build,
  cardAround,
  nonOwner,
  NOT_AN_OWNER,
  infoCardSubheaderText,
  mockMlPlatformApi,
  renderForEntity,
  responseError,
} from '../../__testUtils__';
import { EntityMlPlatformContent } from '../EntityMlPlatformContent';

const v3 = build(3, {
  status: 'running',
  trigger: 'api',
  triggerSource: undefined,
  branch: 'feature/x',
  finishedAt: undefined,
  steps: [
    { name: 'checkout', status: 'succeeded', durationMs: 1200 },
    { name: 'install', status: 'running', message: 'pip install' },
    { name: 'test', status: 'pending' },
  ],
});
const v2 = build(2);

function renderBuilds(
  api: ReturnType<typeof mockMlPlatformApi>,
  route = '/?tab=builds',
) {
  return renderForEntity(<EntityMlPlatformContent />, { api, route });
}

// Slow under a loaded CI machine; every wait below has its own bound.
jest.setTimeout(30_000);

describe('Builds tab', () => {
  it('lists builds with status, branch, linked commit, trigger and duration', async () => {
    const api = mockMlPlatformApi({
      listBuilds: async () => ({ items: [v3, v2], totalCount: 2 }),
    });
    await renderBuilds(api);

    expect(await screen.findByText('Builds (2)')).toBeInTheDocument();
    const row = screen.getByText('v2').closest('tr')!;
    expect(within(row).getByText('succeeded')).toBeInTheDocument();
    // The status reaches assistive technology, so the row's name has it.
    expect(row).toHaveAccessibleName(/^v2 succeeded main a1b2c3d/);
    expect(
      screen.getByRole('row', { name: /^v3 running/ }),
    ).toBeInTheDocument();
    // A narrow Status column must not break "succeeded" mid-word.
    expect(within(row).getByText('succeeded').closest('td')).toHaveStyle({
      whiteSpace: 'nowrap',
    });
    expect(within(row).getByText('main')).toBeInTheDocument();
    expect(within(row).getByRole('link', { name: /a1b2c3d/ })).toHaveAttribute(
      'href',
      `https://github.com/acme/ml-models/commit/${v2.commitSha}`,
    );
    expect(within(row).getByText('push (github.push)')).toBeInTheDocument();
    expect(within(row).getByText('1m 05s')).toBeInTheDocument();
    expect(api.listBuilds).toHaveBeenCalledWith(
      { namespace: 'default', name: 'churn' },
      { limit: 200 },
    );
  });

  it('shows plain short SHAs when the source location is not a web URL', async () => {
    const api = mockMlPlatformApi({
      listBuilds: async () => ({ items: [v2], totalCount: 1 }),
    });
    await renderForEntity(<EntityMlPlatformContent />, {
      api,
      route: '/?tab=builds',
      entity: {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Component',
        metadata: {
          name: 'churn',
          annotations: {
            'backstage.io/source-location': 'file:/repos/churn/',
          },
        },
        spec: { type: 'ml-model', owner: 'group:default/data-science' },
      },
    });
    expect(await screen.findByText('a1b2c3d')).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: /a1b2c3d/ })).toBeNull();
  });

  it('offers the first build when there is none', async () => {
    const api = mockMlPlatformApi({
      listBuilds: async () => ({ items: [], totalCount: 0 }),
    });
    await renderBuilds(api);
    expect(await screen.findByText('No builds yet')).toBeInTheDocument();
    expect(
      screen.getByRole('button', { name: 'Build branch' }),
    ).toBeInTheDocument();
  });

  it('builds a branch from the dialog and opens the new build', async () => {
    const created = build(4, { status: 'queued', branch: 'feature/x' });
    const api = mockMlPlatformApi({
      listBuilds: async () => ({ items: [v2], totalCount: 1 }),
      createBuild: async () => created,
      getBuild: async () => created,
      getBuildLog: async () => ({ items: [], lastId: 0, finished: false }),
    });
    await renderBuilds(api);

    await userEvent.click(
      await screen.findByRole('button', { name: 'Build branch' }),
    );
    const dialog = await screen.findByRole('dialog', {
      name: 'Build a branch',
    });
    await userEvent.type(within(dialog).getByLabelText('Branch'), 'feature/x');
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Build' }),
    );

    await waitFor(() =>
      expect(api.createBuild).toHaveBeenCalledWith(
        { namespace: 'default', name: 'churn' },
        { branch: 'feature/x' },
      ),
    );
    expect(await screen.findByText('Build v4')).toBeInTheDocument();
    expect(screen.getByText('Waiting for log lines…')).toBeInTheDocument();
  });

  it('rejects a malformed commit and sends a good one with the branch', async () => {
    const api = mockMlPlatformApi({
      listBuilds: async () => ({ items: [v2], totalCount: 1 }),
      createBuild: async () =>
        Promise.reject(
          await responseError(400, 'branch "nope" not found', 'InputError'),
        ),
    });
    await renderBuilds(api);
    await userEvent.click(
      await screen.findByRole('button', { name: 'Build branch' }),
    );
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText('Branch'), 'nope');
    const commit = within(dialog).getByLabelText('Commit (optional)');
    await userEvent.type(commit, 'xyz');
    expect(
      within(dialog).getByText('expected a commit SHA (7 to 64 hex digits)'),
    ).toBeInTheDocument();
    expect(
      within(dialog).getByRole('button', { name: 'Build' }),
    ).toBeDisabled();

    await userEvent.clear(commit);
    await userEvent.type(commit, 'abcdef1');
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Build' }),
    );
    expect(
      (await within(dialog).findAllByText(/branch "nope" not found/)).length,
    ).toBeGreaterThan(0);
    expect(api.createBuild).toHaveBeenCalledWith(expect.anything(), {
      branch: 'nope',
      commit: 'abcdef1',
    });
  });

  it('opens the build from ?build= with its steps, log and Cancel', async () => {
    const cancelled = { ...v3, status: 'cancelled' as const };
    const api = mockMlPlatformApi({
      listBuilds: async () => ({ items: [v3, v2], totalCount: 2 }),
      getBuild: jest
        .fn()
        .mockResolvedValueOnce(v3)
        .mockResolvedValue(cancelled),
      getBuildLog: async () => ({
        items: [
          {
            id: 1,
            step: 'checkout',
            line: 'cloned acme/ml-models',
            createdAt: '',
          },
          { id: 2, step: 'install', line: 'Collecting numpy', createdAt: '' },
        ],
        lastId: 2,
        finished: false,
      }),
      cancelBuild: async () => cancelled,
    });
    await renderBuilds(api, `/?build=${v3.id}`);

    const title = await screen.findByText('Build v3');
    // Spaces and separators survive the subheader's flex layout.
    // (The commit link adds "Opens in a new window" for screen readers.)
    expect(infoCardSubheaderText(cardAround(title))).toMatch(
      /^running on feature\/x · a1b2c3d\b.* change 3$/,
    );
    const steps = screen.getByRole('table', { name: 'Build steps' });
    expect(within(steps).getByText('checkout')).toBeInTheDocument();
    expect(within(steps).getByText('1.2 s')).toBeInTheDocument();
    expect(within(steps).getByText('pip install')).toBeInTheDocument();
    expect(await screen.findByText('Collecting numpy')).toBeInTheDocument();

    // Enabled once the permissions answer, which a loaded machine delays.
    const cancel = screen.getByRole('button', { name: 'Cancel build' });
    await waitFor(() => expect(cancel).toBeEnabled(), { timeout: 10_000 });
    await userEvent.click(cancel);
    await waitFor(() => expect(api.cancelBuild).toHaveBeenCalledWith(v3.id), {
      timeout: 10_000,
    });
    expect(
      await screen.findByRole('button', { name: 'Close' }),
    ).toBeInTheDocument();
    await waitFor(() =>
      expect(screen.queryByRole('button', { name: 'Cancel build' })).toBeNull(),
    );
  });

  it('shows a failed build’s reason and no Cancel', async () => {
    const failed = build(5, {
      status: 'failed',
      failureReason: 'tests failed: 2 of 14',
    });
    const api = mockMlPlatformApi({
      listBuilds: async () => ({ items: [failed], totalCount: 1 }),
      getBuild: async () => failed,
      getBuildLog: async () => ({ items: [], lastId: 0, finished: true }),
    });
    await renderBuilds(api, `/?build=${failed.id}`);
    expect(
      await screen.findByText('tests failed: 2 of 14'),
    ).toBeInTheDocument();
    expect(screen.getByText('The build wrote no log.')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Cancel build' })).toBeNull();
  });

  it('shows the API error', async () => {
    const api = mockMlPlatformApi({
      listBuilds: async () =>
        Promise.reject(
          await responseError(
            404,
            'model default/churn not found',
            'NotFoundError',
          ),
        ),
    });
    await renderBuilds(api);
    expect(
      (await screen.findAllByText(/model default\/churn not found/)).length,
    ).toBeGreaterThan(0);
    expect(screen.getByText(/404: NotFoundError/)).toBeInTheDocument();
  });

  it('disables Build and Cancel with the reason when permissions deny', async () => {
    const api = mockMlPlatformApi({
      getModelPermissions: async () => nonOwner,
      listBuilds: async () => ({ items: [v3], totalCount: 1 }),
      getBuild: async () => v3,
      getBuildLog: async () => ({ items: [], lastId: 0, finished: false }),
    });
    await renderBuilds(api, `/?tab=builds&build=${v3.id}`);

    expect(await screen.findByText('Build v3')).toBeInTheDocument();
    const buildButton = screen.getByRole('button', { name: 'Build branch' });
    await waitFor(() => expect(buildButton).toBeDisabled());
    await userEvent.hover(buildButton.parentElement!);
    expect(await screen.findByRole('tooltip')).toHaveTextContent(NOT_AN_OWNER);
    expect(screen.getByRole('button', { name: 'Cancel build' })).toBeDisabled();
  });
});

describe('Build log', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('appends the lines after the last id every second until finished', async () => {
    jest.useFakeTimers();
    const running = build(3, { status: 'running', finishedAt: undefined });
    const getBuildLog = jest
      .fn()
      .mockResolvedValueOnce({
        items: [{ id: 1, line: 'step one', createdAt: '' }],
        lastId: 1,
        finished: false,
      })
      .mockResolvedValueOnce({
        items: [{ id: 2, line: 'step two', createdAt: '' }],
        lastId: 2,
        finished: true,
      });
    const api = mockMlPlatformApi({
      listBuilds: async () => ({ items: [running], totalCount: 1 }),
      getBuild: async () => running,
      getBuildLog,
    });
    await renderBuilds(api, `/?build=${running.id}`);

    expect(await screen.findByText('step one')).toBeInTheDocument();
    expect(getBuildLog).toHaveBeenLastCalledWith(running.id, 0);

    await act(async () => {
      jest.advanceTimersByTime(1000);
    });
    expect(await screen.findByText('step two')).toBeInTheDocument();
    expect(screen.getByText('step one')).toBeInTheDocument();
    expect(getBuildLog).toHaveBeenLastCalledWith(running.id, 1);

    // Finished: no more requests.
    await act(async () => {
      jest.advanceTimersByTime(5000);
    });
    expect(getBuildLog).toHaveBeenCalledTimes(2);
  });
});
