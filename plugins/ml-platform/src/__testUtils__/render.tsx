import { configApiRef, discoveryApiRef } from '@backstage/core-plugin-api';
import type { Entity } from '@backstage/catalog-model';
import { ResponseError } from '@backstage/errors';
import {
  EntityProvider,
  entityRouteRef,
} from '@backstage/plugin-catalog-react';
import {
  TestApiProvider,
  mockApis,
  renderInTestApp,
} from '@backstage/test-utils';
import { MlPlatformApi } from '@internal/plugin-ml-platform-common';
import { ReactElement } from 'react';
import { mlPlatformApiRef } from '../api';
import { allowAll, churnEntity } from './fixtures';

export type MockMlPlatformApi = jest.Mocked<MlPlatformApi>;

/**
 * A client whose every method fails loudly unless the test gives it an
 * answer, so a test cannot pass on a call it did not expect.
 */
export function mockMlPlatformApi(
  overrides: Partial<MlPlatformApi> = {},
): MockMlPlatformApi {
  const methods: (keyof MlPlatformApi)[] = [
    'listModels',
    'getModel',
    'registerModel',
    'getModelPermissions',
    'listActivity',
    'listBuilds',
    'getBuild',
    'createBuild',
    'cancelBuild',
    'getBuildLog',
    'followBuildLog',
    'listDeployments',
    'getDeployment',
    'createDeployment',
    'updateDeployment',
    'deleteDeployment',
    'getDeploymentLogs',
    'followDeploymentLogs',
    'predict',
    'infer',
    'uploadInput',
    'listExecutions',
    'getExecution',
    'createExecution',
    'cancelExecution',
    'listExecutionChunks',
    'downloadExecutionResult',
    'getModelMetrics',
    'listModelTraffic',
    'getGateway',
    'readExecutionResult',
    'getModelAlerts',
    'updateModelAlerts',
    'getAlertHistory',
    'silenceAlert',
    'unsilenceAlert',
    'getModelDashboard',
    'listPredictionEvents',
    'exportPredictionEvents',
    'listSubscriptions',
    'createSubscription',
    'updateSubscription',
    'deleteSubscription',
    'listDeadLetters',
    'retryDeadLetter',
    'searchLogs',
  ];
  const api: Record<string, jest.Mock> = {};
  for (const method of methods) {
    api[method] = jest.fn(
      (overrides[method] as (...args: unknown[]) => unknown) ??
        (async () => {
          throw new Error(`unexpected call: ${method}`);
        }),
    );
  }
  if (!overrides.getModelPermissions) {
    api.getModelPermissions.mockResolvedValue(allowAll);
  }
  // The Endpoints card asks where invocations go.
  if (!overrides.getGateway) {
    api.getGateway.mockResolvedValue({
      nativeDataPlane: { state: 'disabled' },
    });
  }
  // The Deployments tab always lists the triggers below the deployments.
  if (!overrides.listSubscriptions) {
    api.listSubscriptions.mockResolvedValue([]);
  }
  return api as unknown as MockMlPlatformApi;
}

/** Renders `element` for an entity, as the catalog's entity page would. */
export function renderForEntity(
  element: ReactElement,
  options: {
    api: MockMlPlatformApi;
    entity?: Entity;
    route?: string;
    /** App config the frontend reads (e.g. `mlPlatform.monitoring.grafana.url`). */
    config?: object;
  },
) {
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [mlPlatformApiRef, options.api],
        [
          discoveryApiRef,
          mockApis.discovery({ baseUrl: 'https://portal.example.com' }),
        ],
        [configApiRef, mockApis.config({ data: options.config ?? {} })],
      ]}
    >
      <EntityProvider entity={options.entity ?? churnEntity}>
        {element}
      </EntityProvider>
    </TestApiProvider>,
    {
      routeEntries: [options.route ?? '/'],
      mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef },
    },
  );
}

/** The error the client throws for a failed response. */
export async function responseError(
  status: number,
  message: string,
  name = 'NotAllowedError',
): Promise<ResponseError> {
  return ResponseError.fromResponse(
    new Response(
      JSON.stringify({
        error: { name, message },
        request: { method: 'GET', url: '/api/ml-platform' },
        response: { statusCode: status },
      }),
      { status, headers: { 'Content-Type': 'application/json' } },
    ),
  );
}
