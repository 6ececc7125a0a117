import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  build,
  mockMlPlatformApi,
  renderForEntity,
  summary,
} from '../../__testUtils__';
import { EntityMlPlatformContent } from './EntityMlPlatformContent';

describe('EntityMlPlatformContent', () => {
  it('explains what to change on an entity that is not a model', async () => {
    const api = mockMlPlatformApi();
    await renderForEntity(<EntityMlPlatformContent />, {
      api,
      entity: {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Component',
        metadata: { name: 'checkout' },
        spec: { type: 'service', owner: 'group:default/payments' },
      },
    });
    expect(await screen.findByText('Not an ML model')).toBeInTheDocument();
    expect(screen.getByText('service')).toBeInTheDocument();
    expect(screen.getByText(/type: ml-model/)).toBeInTheDocument();
    expect(api.getModel).not.toHaveBeenCalled();
    expect(api.getModelPermissions).not.toHaveBeenCalled();
  });

  it('opens on the overview and switches sections through ?tab=', async () => {
    const api = mockMlPlatformApi({
      getModel: async () => summary(),
      listExecutions: async () => [],
      listBuilds: async () => ({ items: [], totalCount: 0 }),
    });
    await renderForEntity(<EntityMlPlatformContent />, { api });
    expect(
      await screen.findByRole('tab', { name: 'Overview' }),
    ).toHaveAttribute('aria-selected', 'true');
    expect(await screen.findByText('Latest build')).toBeInTheDocument();

    await userEvent.click(screen.getByRole('tab', { name: 'Builds' }));
    expect(await screen.findByText('No builds yet')).toBeInTheDocument();
    expect(screen.getByRole('tab', { name: 'Builds' })).toHaveAttribute(
      'aria-selected',
      'true',
    );
    expect(screen.getByRole('tab', { name: 'Activity' })).toBeInTheDocument();
  });

  it('goes from the overview’s latest build to its details', async () => {
    const b = build(3, { status: 'succeeded' });
    const api = mockMlPlatformApi({
      getModel: async () => summary({ latestBuild: b }),
      listExecutions: async () => [],
      listBuilds: async () => ({ items: [b], totalCount: 1 }),
      getBuild: async () => b,
      getBuildLog: async () => ({ items: [], lastId: 0, finished: true }),
    });
    await renderForEntity(<EntityMlPlatformContent />, {
      api,
      route: '/catalog/default/component/churn/ml-platform',
    });
    await userEvent.click(await screen.findByText('Open build v3'));
    expect(await screen.findByText('Build v3')).toBeInTheDocument();
    expect(screen.getByRole('tab', { name: 'Builds' })).toHaveAttribute(
      'aria-selected',
      'true',
    );
  });

  it('lands on the build a notification links to (?build=)', async () => {
    const b = build(7, { status: 'failed', failureReason: 'tests failed' });
    const api = mockMlPlatformApi({
      listBuilds: async () => ({ items: [b], totalCount: 1 }),
      getBuild: async () => b,
      getBuildLog: async () => ({ items: [], lastId: 0, finished: true }),
    });
    await renderForEntity(<EntityMlPlatformContent />, {
      api,
      route: `/catalog/default/component/churn/ml-platform?build=${b.id}`,
    });
    expect(await screen.findByText('Build v7')).toBeInTheDocument();
    expect(screen.getByRole('tab', { name: 'Builds' })).toHaveAttribute(
      'aria-selected',
      'true',
    );
    await userEvent.click(screen.getByRole('button', { name: 'Close' }));
    await waitFor(() => expect(screen.queryByText('Build v7')).toBeNull());
    expect(screen.getByText('Builds (1)')).toBeInTheDocument();
  });
});
