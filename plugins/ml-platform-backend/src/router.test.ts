import { mockServices } from '@backstage/backend-test-utils';
import { ModelAccess } from './access/ModelAccess';
import { ModelChanges } from './activity/ModelChanges';
import { createRouter } from './router';
import { spec } from './schema/openapi/generated';
import { ModelCatalog } from './services/ModelCatalog';
import { BuildService } from './builds/BuildService';
import { DeploymentService } from './deployments/DeploymentService';
import { InvocationRoutes } from './gateway/InvocationRoutes';
import { ExecutionService } from './batch/ExecutionService';
import { executionRoutes, uploadRoutes } from './batch/routes';
import { buildRoutes } from './builds/routes';
import { gatewayRoutes } from './gateway/gatewayRoutes';
import { deploymentRoutes } from './deployments/routes';
import { MonitoringRouteServices, monitoringRoutes } from './monitoring/routes';
import { alertingRoutes } from './monitoring/alerts/routes';
import { PredictionEventService } from './events/PredictionEventService';
import { predictionEventRoutes } from './events/routes';
import { LogSearch } from './modelLogs/LogSearch';
import { logRoutes } from './modelLogs/routes';
import { SubscriptionService } from './subscriptions/SubscriptionService';
import { subscriptionRoutes } from './subscriptions/routes';

/** Express route paths (`/models/:namespace/:name`) in OpenAPI form. */
function toOpenApiPath(path: string) {
  return path.replace(/:(\w+)/g, '{$1}');
}

describe('router', () => {
  it('documents every route in openapi.yaml, and nothing more', async () => {
    const router = await createRouter({
      httpAuth: mockServices.httpAuth(),
      access: new ModelAccess(mockServices.permissions()),
      changes: {} as ModelChanges,
      models: {} as ModelCatalog,
      invocations: {} as InvocationRoutes,
      // Each subsystem's routes, as the plugin adds them.
      subsystems: [
        {
          routes: (api, ctx) =>
            buildRoutes(api, ctx, {
              builds: {} as BuildService,
              models: {} as ModelCatalog,
            }),
        },
        {
          routes: (api, ctx) => {
            deploymentRoutes(api, ctx, {
              deployments: {} as DeploymentService,
            });
            gatewayRoutes(api, ctx, {});
          },
        },
        {
          streamRoutes: (r, ctx) =>
            uploadRoutes(r, ctx, { executions: {} as ExecutionService }),
          routes: (api, ctx) =>
            executionRoutes(api, ctx, { executions: {} as ExecutionService }),
        },
        {
          routes: (api, ctx) =>
            monitoringRoutes(api, ctx, {} as MonitoringRouteServices),
        },
        {
          routes: (api, ctx) =>
            alertingRoutes(
              api,
              ctx,
              {} as Parameters<typeof alertingRoutes>[2],
            ),
        },
        {
          routes: (api, ctx) =>
            predictionEventRoutes(api, ctx, {
              events: {} as PredictionEventService,
            }),
        },
        {
          routes: (api, ctx) =>
            subscriptionRoutes(api, ctx, {
              subscriptions: {} as SubscriptionService,
            }),
        },
        {
          routes: (api, ctx) => logRoutes(api, ctx, { logs: {} as LogSearch }),
        },
      ],
    });
    // Routes of the router and of the routers it mounts (the typed one).
    const routesOf = (r: any): string[] =>
      r.stack.flatMap((layer: any) => {
        if (layer.handle?.stack) return routesOf(layer.handle);
        if (!layer.route) return [];
        return Object.keys(layer.route.methods).map(
          m => `${m.toUpperCase()} ${toOpenApiPath(layer.route.path)}`,
        );
      });
    const routes = [...new Set(routesOf(router))].sort();
    const documented = Object.entries(spec.paths)
      .flatMap(([path, item]) =>
        Object.keys(item)
          .filter(k => ['get', 'post', 'put', 'patch', 'delete'].includes(k))
          .map(m => `${m.toUpperCase()} ${path}`),
      )
      .sort();
    expect(routes).toEqual(documented);
  });

  it('sends exactly the two invocation routes to the data plane', () => {
    const urls = Object.entries(spec.paths).flatMap(([path, item]) =>
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
