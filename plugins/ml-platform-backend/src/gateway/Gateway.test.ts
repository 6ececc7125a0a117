import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { ModelDeployment } from '@internal/plugin-ml-platform-common';
import { Gateway, GatewayOptions } from './Gateway';

const churn: ModelDeployment = {
  id: 'd-1',
  modelRef: 'component:default/churn',
  buildId: 'b-1',
  type: 'online',
  status: 'ready',
  replicas: 1,
  minReplicas: 1,
  maxReplicas: 1,
  readyReplicas: 1,
  createdAt: '2026-12-06T00:00:00.000Z',
  updatedAt: '2026-12-06T00:00:00.000Z',
};

/** A gateway over a deployments store holding `online` (changeable). */
function gatewayOver(online: { current: ModelDeployment[] }) {
  const listDeployments = jest.fn(async () => online.current);
  const gateway = new Gateway({
    stores: {
      deployments: { listDeployments },
      models: {
        listModels: async () => [{ entityRef: 'component:default/churn' }],
      },
    },
    models: { assertVisible: async () => {} },
    runtime: {},
    reconciler: {},
    logger: mockServices.logger.mock(),
    timeoutMs: 1000,
    coldStartTimeoutMs: 1000,
  } as unknown as GatewayOptions);
  return { gateway, listDeployments };
}

describe('Gateway: which deployment a call goes to', () => {
  const credentials = mockCredentials.user();
  const records = {
    protocol: 'records' as const,
    namespace: 'default',
    name: 'churn',
  };
  const v2 = { protocol: 'v2' as const, name: 'churn' };

  it.each([
    ['records', records],
    ['v2', v2],
  ])(
    'finds a deployment made since it last looked (%s), not only after its half second',
    async (_, target) => {
      const online = { current: [] as ModelDeployment[] };
      const { gateway } = gatewayOver(online);
      await expect(gateway.authorize(target, credentials)).rejects.toThrow(
        'has no online deployment',
      );
      // Deployed and ready within the half second the list is kept: a call
      // right after must not be told there is no deployment.
      await new Promise(r => setTimeout(r, 60));
      online.current = [churn];
      await expect(gateway.authorize(target, credentials)).resolves.toEqual(
        churn,
      );
    },
  );

  it('reads the store at most every half second while calls find their deployment', async () => {
    const { gateway, listDeployments } = gatewayOver({ current: [churn] });
    for (let i = 0; i < 20; i++) {
      await gateway.authorize(i % 2 ? records : v2, credentials);
    }
    expect(listDeployments).toHaveBeenCalledTimes(1);
  });

  it('reads the store 20 times a second at most for calls to a model without a deployment', async () => {
    const { gateway, listDeployments } = gatewayOver({ current: [] });
    const started = Date.now();
    for (let i = 0; i < 500; i++) {
      await expect(gateway.authorize(records, credentials)).rejects.toThrow(
        'has no online deployment',
      );
    }
    const elapsedMs = Date.now() - started;
    // The first read, then one per 50 ms at most.
    expect(listDeployments.mock.calls.length).toBeLessThanOrEqual(
      2 + Math.floor(elapsedMs / 50),
    );
    expect(listDeployments.mock.calls.length).toBeLessThan(500);
  });
});
