import { mockServices } from '@backstage/backend-test-utils';
import { ModelAccess } from './access/ModelAccess';
import { ModelChanges } from './activity/ModelChanges';
import { createRouter } from './router';
import { loadOpenApiDocument } from './schema/openApiDocument';
import { ModelCatalog } from './services/ModelCatalog';
import { BuildService } from './builds/BuildService';
import { DeploymentService } from './deployments/DeploymentService';
import { InvocationRoutes } from './gateway/InvocationRoutes';
import { ExecutionService } from './batch/ExecutionService';
import { MonitoringRoutes } from './monitoring/createMonitoring';
import { PredictionEventService } from './events/PredictionEventService';
import { SubscriptionService } from './subscriptions/SubscriptionService';
import { LogSearch } from './modelLogs/LogSearch';

/** Express route paths (`/models/:namespace/:name`) in OpenAPI form. */
function toOpenApiPath(path: string) {
  return path.replace(/:(\w+)/g, '{$1}');
}

describe('router', () => {
  it('documents every route in openapi.yaml, and nothing more', async () => {
    const openApi = loadOpenApiDocument();
    const router = await createRouter({
      httpAuth: mockServices.httpAuth(),
      access: new ModelAccess(mockServices.permissions()),
      changes: {} as ModelChanges,
      models: {} as ModelCatalog,
      builds: {} as BuildService,
      deployments: {} as DeploymentService,
      executions: {} as ExecutionService,
      invocations: {} as InvocationRoutes,
      monitoring: {} as MonitoringRoutes,
      predictionEvents: {} as PredictionEventService,
      subscriptions: {} as SubscriptionService,
      logs: {} as LogSearch,
      openApi,
    });
    const routes = (router as any).stack
      .filter((layer: any) => layer.route)
      .flatMap((layer: any) =>
        Object.keys(layer.route.methods).map(
          m => `${m.toUpperCase()} ${toOpenApiPath(layer.route.path)}`,
        ),
      )
      .sort();
    const documented = Object.entries(openApi.document.paths)
      .flatMap(([path, item]) =>
        Object.keys(item)
          .filter(k => ['get', 'post', 'put', 'patch', 'delete'].includes(k))
          .map(m => `${m.toUpperCase()} ${path}`),
      )
      .sort();
    expect(routes).toEqual(documented);
  });

  it('sends exactly the two invocation routes to the data plane', () => {
    const urls = Object.entries(loadOpenApiDocument().document.paths).flatMap(
      ([path, item]) =>
        Object.keys(item)
          .filter(k => ['get', 'post', 'put', 'patch', 'delete'].includes(k))
          .map(m => ({
            method: m.toUpperCase(),
            url: `/api/ml-platform${path.replace(/\{(\w+)\}/g, 'x-$1')}`,
          })),
    );
    const served = urls.filter(u => InvocationRoutes.parse(u.method, u.url));
    expect(served).toHaveLength(2);
    expect(served).toEqual(
      expect.arrayContaining([
        { method: 'POST', url: '/api/ml-platform/v2/models/x-name/infer' },
        {
          method: 'POST',
          url: '/api/ml-platform/models/x-namespace/x-name/predict',
        },
      ]),
    );
    expect(
      InvocationRoutes.parse(
        'POST',
        '/api/ml-platform/v2/models/a%2Fb/infer?x=1',
      ),
    ).toEqual({ protocol: 'v2', name: 'a/b' });
    expect(
      InvocationRoutes.parse('POST', '/api/ml-platform/models/ns/m/predict'),
    ).toEqual({ protocol: 'records', namespace: 'ns', name: 'm' });
    expect(
      InvocationRoutes.parse('GET', '/api/ml-platform/v2/models/m/infer'),
    ).toBeUndefined();
    expect(
      InvocationRoutes.parse('POST', '/api/ml-platform/v2/models/m/infer/x'),
    ).toBeUndefined();
    expect(
      InvocationRoutes.parse(
        'POST',
        '/api/ml-platform/v2/models/%E0%A4%A/infer',
      ),
    ).toBeUndefined();
  });
});
