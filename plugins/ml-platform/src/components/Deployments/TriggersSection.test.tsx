import {
  DeadLetter,
  ModelSubscription,
} from '@internal/plugin-ml-platform-common';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  build,
  deployment,
  mockMlPlatformApi,
  nonOwner,
  renderForEntity,
} from '../../__testUtils__';
import { EntityMlPlatformContent } from '../EntityMlPlatformContent';

jest.setTimeout(20_000);

const online = deployment();
const subscription: ModelSubscription = {
  id: 'sub-1',
  modelRef: 'component:default/churn',
  deploymentId: online.id,
  topic: 'orders',
  mapping: { columns: { tenure_months: '$.customer.tenure' } },
  outputTopic: 'ml-platform.prediction.churn',
  enabled: true,
  counters: {
    received: 120,
    filtered: 7,
    predicted: 110,
    failed: 3,
    lagSeconds: 1.5,
  },
  createdAt: '2026-12-03T10:00:00Z',
  updatedAt: '2026-12-03T10:00:00Z',
};
const letter: DeadLetter = {
  id: '00000000-0000-4000-8000-000000000001',
  subscriptionId: 'sub-1',
  eventId: 'order-42',
  topic: 'orders',
  payload: { customer: {} },
  reason:
    'bad payload: mapping.columns.tenure_months: no value at $.customer.tenure in the payload',
  attempts: 1,
  receivedAt: '2026-12-03T10:00:00Z',
  failedAt: '2026-12-03T10:00:01Z',
};

function renderTab(api: ReturnType<typeof mockMlPlatformApi>) {
  return renderForEntity(<EntityMlPlatformContent />, {
    api,
    route: '/?tab=deployments',
  });
}

describe('Triggers on the Deployments tab', () => {
  it('shows each subscription with its counters, its dead letters, and retries one', async () => {
    const api = mockMlPlatformApi({
      listBuilds: async () => ({ items: [build(2)], totalCount: 1 }),
      listDeployments: async () => [online],
      listSubscriptions: async () => [subscription],
      listDeadLetters: async () => [letter],
      retryDeadLetter: async () => undefined,
    });
    await renderTab(api);

    const row = (await screen.findByText('orders')).closest('tr')!;
    for (const text of ['120', '7', '110', '3', '1.5 s']) {
      expect(within(row).getByText(text)).toBeInTheDocument();
    }
    expect(
      within(row).getByText('ml-platform.prediction.churn'),
    ).toBeInTheDocument();

    await userEvent.click(
      within(row).getByRole('button', { name: 'Dead letters' }),
    );
    const dialog = await screen.findByRole('dialog');
    expect(await within(dialog).findByText(letter.reason)).toBeInTheDocument();
    expect(within(dialog).getByText('order-42')).toBeInTheDocument();
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Retry' }),
    );
    await waitFor(() =>
      expect(api.retryDeadLetter).toHaveBeenCalledWith('sub-1', letter.id),
    );
  });

  it('subscribes the online deployment with the filter and mapping typed in', async () => {
    const api = mockMlPlatformApi({
      listBuilds: async () => ({ items: [build(2)], totalCount: 1 }),
      listDeployments: async () => [online],
      createSubscription: async () => subscription,
    });
    await renderTab(api);
    expect(await screen.findByText(/No triggers/)).toBeInTheDocument();
    await userEvent.click(
      screen.getByRole('button', { name: 'Subscribe to events' }),
    );
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText('Topic'), 'orders');
    await userEvent.type(
      within(dialog).getByLabelText('Filter (JSON, optional)'),
      '{{"path": "$.type", "equals": "order"}',
    );
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Subscribe' }),
    );
    await waitFor(() =>
      expect(api.createSubscription).toHaveBeenCalledWith(
        { namespace: 'default', name: 'churn' },
        {
          deploymentId: online.id,
          topic: 'orders',
          filter: { path: '$.type', equals: 'order' },
          mapping: { columns: { tenure_months: '$.customer.tenure' } },
          outputTopic: undefined,
        },
      ),
    );
  });

  it('keeps the buttons visible but disabled, with the reason, for a non-owner', async () => {
    const api = mockMlPlatformApi({
      listBuilds: async () => ({ items: [build(2)], totalCount: 1 }),
      listDeployments: async () => [online],
      listSubscriptions: async () => [subscription],
      getModelPermissions: async () => nonOwner,
    });
    await renderTab(api);
    await screen.findByText('orders');
    expect(
      screen.getByRole('button', { name: 'Subscribe to events' }),
    ).toBeDisabled();
    expect(screen.getByRole('button', { name: 'Remove' })).toBeDisabled();
  });
});
