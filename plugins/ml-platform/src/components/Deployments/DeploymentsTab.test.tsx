import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  build,
  churnManifest,
  nonOwner,
  NOT_AN_OWNER,
  deployment,
  infoCardSubheaderText,
  mockMlPlatformApi,
  renderForEntity,
  responseError,
} from '../../__testUtils__';
import { EntityMlPlatformContent } from '../EntityMlPlatformContent';

const v1 = build(1);
const v2 = build(2);
const v3 = build(3);
const v4failed = build(4, { status: 'failed' });
const builds = { items: [v4failed, v3, v2, v1], totalCount: 4 };

const online = deployment({
  buildId: v2.id,
  status: 'degraded',
  reason: '1 of 2 replicas restarting',
  readyReplicas: 1,
  replicaStatus: [
    {
      id: 'churn-0',
      buildId: v2.id,
      state: 'ready',
      restarts: 0,
      pid: 4242,
      startedAt: '2026-11-26T10:00:00Z',
    },
    {
      id: 'churn-1',
      buildId: v2.id,
      state: 'restarting',
      restarts: 3,
      lastError: 'exit code 137',
      startedAt: '2026-11-26T10:00:00Z',
    },
  ],
});
const batch = deployment({
  id: 'dep-batch-1',
  type: 'batch',
  buildId: v3.id,
  replicas: 0,
  readyReplicas: 0,
  batch: {
    chunkSize: 500,
    parallelism: 8,
    maxRetries: 2,
    schedule: '0 3 * * *',
  },
});

function renderDeployments(api: ReturnType<typeof mockMlPlatformApi>) {
  return renderForEntity(<EntityMlPlatformContent />, {
    api,
    route: '/?tab=deployments',
  });
}

async function cardOf(title: string) {
  const heading = await screen.findByText(title);
  return heading.closest('.MuiCard-root') as HTMLElement;
}

describe('Deployments tab', () => {
  it('lists deployments with status, reason, build, replicas and each replica', async () => {
    const api = mockMlPlatformApi({
      listBuilds: async () => builds,
      listDeployments: async () => [batch, online],
    });
    await renderDeployments(api);

    const card = await cardOf('Online deployment');
    expect(within(card).getByText('degraded')).toBeInTheDocument();
    expect(
      within(card).getByText('1 of 2 replicas restarting'),
    ).toBeInTheDocument();
    // Status and reason stay apart despite the subheader's flex layout.
    expect(infoCardSubheaderText(card)).toBe(
      'degraded · 1 of 2 replicas restarting',
    );
    expect(within(card).getByText('1/2 ready')).toBeInTheDocument();
    expect(
      within(card).getByText('0 to 4 (scales to zero when idle)'),
    ).toBeInTheDocument();
    const replicas = within(card).getByRole('table', { name: 'Replicas' });
    const restarting = within(replicas).getByText('churn-1').closest('tr')!;
    expect(within(restarting).getByText('restarting')).toBeInTheDocument();
    expect(within(restarting).getByText('exit code 137')).toBeInTheDocument();
    expect(
      within(replicas).getByText('(pid 4242)', { exact: false }),
    ).toBeInTheDocument();

    const batchCard = await cardOf('Batch deployment');
    expect(within(batchCard).getByText('v3')).toBeInTheDocument();
    expect(within(batchCard).getByText('500 rows')).toBeInTheDocument();
    expect(within(batchCard).getByText('0 3 * * *')).toBeInTheDocument();
    // Online is listed first.
    expect(
      card.compareDocumentPosition(batchCard) &
        Node.DOCUMENT_POSITION_FOLLOWING,
    ).toBeTruthy();
  });

  it('deploys a succeeded build online with the sizes typed in', async () => {
    const api = mockMlPlatformApi({
      listBuilds: async () => builds,
      listDeployments: async () => [],
      createDeployment: async () => deployment({ buildId: v3.id }),
    });
    await renderDeployments(api);

    expect(await screen.findByText('Not deployed')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Deploy' }));
    const dialog = await screen.findByRole('dialog', {
      name: 'Deploy a build',
    });
    const buildSelect = within(dialog).getByLabelText('Build');
    // Failed builds are not offered.
    expect(
      within(buildSelect)
        .getAllByRole('option')
        .map(o => o.textContent),
    ).toEqual([
      expect.stringMatching(/^v3/),
      expect.stringMatching(/^v2/),
      expect.stringMatching(/^v1/),
    ]);
    await userEvent.selectOptions(buildSelect, v2.id);
    await userEvent.type(within(dialog).getByLabelText('Replicas'), '2');
    await userEvent.type(within(dialog).getByLabelText('Min replicas'), '0');
    await userEvent.type(within(dialog).getByLabelText('Max replicas'), '4');
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Deploy' }),
    );

    await waitFor(() =>
      expect(api.createDeployment).toHaveBeenCalledWith(
        { namespace: 'default', name: 'churn' },
        {
          buildId: v2.id,
          type: 'online',
          replicas: 2,
          minReplicas: 0,
          maxReplicas: 4,
        },
      ),
    );
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
  });

  it('deploys as batch with the build manifest’s sizes and a schedule', async () => {
    const withManifest = build(3, { manifest: churnManifest });
    const api = mockMlPlatformApi({
      listBuilds: async () => ({ items: [withManifest], totalCount: 1 }),
      listDeployments: async () => [online],
      createDeployment: async () => batch,
    });
    await renderDeployments(api);

    await userEvent.click(
      await screen.findByRole('button', { name: 'Deploy' }),
    );
    const dialog = await screen.findByRole('dialog', {
      name: 'Deploy a build',
    });
    // The model already has an online deployment: batch is preselected.
    expect(within(dialog).getByLabelText('Online')).toBeDisabled();
    expect(within(dialog).getByLabelText('Batch')).toBeChecked();
    expect(within(dialog).getByLabelText('Chunk size (rows)')).toHaveValue(
      1000,
    );
    await userEvent.clear(within(dialog).getByLabelText('Parallelism'));
    await userEvent.type(within(dialog).getByLabelText('Parallelism'), '2');
    const schedule = within(dialog).getByLabelText('Schedule (cron, optional)');
    await userEvent.type(schedule, 'nightly');
    expect(
      within(dialog).getByText('expected a cron expression like "0 3 * * *"'),
    ).toBeInTheDocument();
    expect(
      within(dialog).getByRole('button', { name: 'Deploy' }),
    ).toBeDisabled();
    await userEvent.clear(schedule);
    await userEvent.type(schedule, '0 3 * * *');
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Deploy' }),
    );

    await waitFor(() =>
      expect(api.createDeployment).toHaveBeenCalledWith(expect.anything(), {
        buildId: v3.id,
        type: 'batch',
        batch: {
          chunkSize: 1000,
          parallelism: 2,
          maxRetries: 3,
          schedule: '0 3 * * *',
        },
      }),
    );
  });

  it('scales with only the changed replica count', async () => {
    const api = mockMlPlatformApi({
      listBuilds: async () => builds,
      listDeployments: async () => [online],
      updateDeployment: async () => ({ ...online, replicas: 3 }),
    });
    await renderDeployments(api);

    const card = await cardOf('Online deployment');
    await userEvent.click(within(card).getByRole('button', { name: 'Scale' }));
    const dialog = await screen.findByRole('dialog', {
      name: 'Scale the online deployment',
    });
    const replicas = within(dialog).getByLabelText('Replicas');
    await userEvent.clear(replicas);
    await userEvent.type(replicas, '9');
    expect(
      within(dialog).getByText('must not exceed max replicas (4)'),
    ).toBeInTheDocument();
    await userEvent.clear(replicas);
    await userEvent.type(replicas, '3');
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Scale' }),
    );

    await waitFor(() =>
      expect(api.updateDeployment).toHaveBeenCalledWith(online.id, {
        replicas: 3,
      }),
    );
  });

  it('rolls back to an earlier build and rolls out a newer one', async () => {
    const api = mockMlPlatformApi({
      listBuilds: async () => builds,
      listDeployments: async () => [online],
      updateDeployment: async () => online,
    });
    await renderDeployments(api);
    const card = await cardOf('Online deployment');

    await userEvent.click(
      within(card).getByRole('button', { name: 'Roll back' }),
    );
    let dialog = await screen.findByRole('dialog', {
      name: 'Roll back the online deployment',
    });
    expect(within(dialog).getByText(/It runs v2 now/)).toBeInTheDocument();
    expect(
      within(within(dialog).getByLabelText('Earlier build'))
        .getAllByRole('option')
        .map(o => o.getAttribute('value')),
    ).toEqual([v1.id]);
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Roll back' }),
    );
    await waitFor(() =>
      expect(api.updateDeployment).toHaveBeenCalledWith(online.id, {
        buildId: v1.id,
      }),
    );
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());

    await userEvent.click(
      within(card).getByRole('button', { name: 'Roll out' }),
    );
    dialog = await screen.findByRole('dialog', {
      name: 'Roll out the online deployment',
    });
    // v4 failed; v3 is the only newer succeeded build.
    expect(
      within(within(dialog).getByLabelText('New build'))
        .getAllByRole('option')
        .map(o => o.getAttribute('value')),
    ).toEqual([v3.id]);
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Roll out' }),
    );
    await waitFor(() =>
      expect(api.updateDeployment).toHaveBeenLastCalledWith(online.id, {
        buildId: v3.id,
      }),
    );
  });

  it('undeploys only after confirming', async () => {
    const api = mockMlPlatformApi({
      listBuilds: async () => builds,
      listDeployments: jest
        .fn()
        .mockResolvedValueOnce([online])
        .mockResolvedValue([]),
      deleteDeployment: async () => undefined,
    });
    await renderDeployments(api);
    const card = await cardOf('Online deployment');

    await userEvent.click(
      within(card).getByRole('button', { name: 'Undeploy' }),
    );
    let dialog = await screen.findByRole('dialog');
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Cancel' }),
    );
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(api.deleteDeployment).not.toHaveBeenCalled();

    await userEvent.click(
      within(card).getByRole('button', { name: 'Undeploy' }),
    );
    dialog = await screen.findByRole('dialog', {
      name: 'Undeploy the online deployment?',
    });
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Undeploy' }),
    );
    await waitFor(() =>
      expect(api.deleteDeployment).toHaveBeenCalledWith(online.id),
    );
    expect(await screen.findByText('Not deployed')).toBeInTheDocument();
  });

  it('shows a failed update in the dialog', async () => {
    const api = mockMlPlatformApi({
      listBuilds: async () => builds,
      listDeployments: async () => [online],
      updateDeployment: async () =>
        Promise.reject(
          await responseError(
            409,
            'a rollout is already in progress',
            'ConflictError',
          ),
        ),
    });
    await renderDeployments(api);
    const card = await cardOf('Online deployment');
    await userEvent.click(
      within(card).getByRole('button', { name: 'Roll out' }),
    );
    const dialog = await screen.findByRole('dialog');
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Roll out' }),
    );
    expect(
      (await within(dialog).findAllByText(/a rollout is already in progress/))
        .length,
    ).toBeGreaterThan(0);
  });

  it('shows the deployment logs and follows them', async () => {
    const api = mockMlPlatformApi({
      listBuilds: async () => builds,
      listDeployments: async () => [online],
      getDeploymentLogs: async () => ({
        items: [
          {
            seq: 7,
            time: '2026-11-26T10:00:00Z',
            replica: 'churn-1',
            stream: 'stderr',
            line: 'MemoryError',
          },
        ],
        lastSeq: 7,
      }),
    });
    await renderDeployments(api);
    const card = await cardOf('Online deployment');
    await userEvent.click(within(card).getByRole('button', { name: 'Logs' }));
    expect(await within(card).findByText('MemoryError')).toBeInTheDocument();
    expect(api.getDeploymentLogs).toHaveBeenCalledWith(online.id, {
      tail: 500,
    });
  });

  it('says why Deploy is disabled when there is no succeeded build', async () => {
    const api = mockMlPlatformApi({
      listBuilds: async () => ({ items: [v4failed], totalCount: 1 }),
      listDeployments: async () => [],
    });
    await renderDeployments(api);
    const deploy = await screen.findByRole('button', { name: 'Deploy' });
    await waitFor(() => expect(deploy).toBeDisabled());
    await userEvent.hover(deploy.parentElement!);
    expect(await screen.findByRole('tooltip')).toHaveTextContent(
      'No succeeded build to deploy yet',
    );
  });

  it('disables every action with the reason when permissions deny', async () => {
    const api = mockMlPlatformApi({
      getModelPermissions: async () => nonOwner,
      listBuilds: async () => builds,
      listDeployments: async () => [online],
    });
    await renderDeployments(api);
    const card = await cardOf('Online deployment');
    await waitFor(() =>
      expect(
        within(card).getByRole('button', { name: 'Scale' }),
      ).toBeDisabled(),
    );
    for (const name of ['Roll out', 'Roll back', 'Undeploy']) {
      expect(within(card).getByRole('button', { name })).toBeDisabled();
    }
    expect(screen.getByRole('button', { name: 'Deploy' })).toBeDisabled();
    await userEvent.hover(
      within(card).getByRole('button', { name: 'Undeploy' }).parentElement!,
    );
    expect(await screen.findByRole('tooltip')).toHaveTextContent(NOT_AN_OWNER);
    // Logs stay readable.
    expect(within(card).getByRole('button', { name: 'Logs' })).toBeEnabled();
  });

  it('shows the API error', async () => {
    const api = mockMlPlatformApi({
      listBuilds: async () => builds,
      listDeployments: async () =>
        Promise.reject(
          await responseError(500, 'runtime unreachable', 'Error'),
        ),
    });
    await renderDeployments(api);
    expect(
      (await screen.findAllByText(/runtime unreachable/)).length,
    ).toBeGreaterThan(0);
  });
});
