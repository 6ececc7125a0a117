import { mockServices } from '@backstage/backend-test-utils';
import { createRouter } from './router';
import { loadOpenApiDocument } from './schema/openApiDocument';
import { ModelCatalog } from './services/ModelCatalog';
import { BuildService } from './builds/BuildService';
import { DeploymentService } from './deployments/DeploymentService';
import { Gateway } from './gateway/Gateway';
import { ExecutionService } from './batch/ExecutionService';

/** Express route paths (`/models/:namespace/:name`) in OpenAPI form. */
function toOpenApiPath(path: string) {
  return path.replace(/:(\w+)/g, '{$1}');
}

describe('router', () => {
  it('documents every route in openapi.yaml, and nothing more', async () => {
    const openApi = loadOpenApiDocument();
    const router = await createRouter({
      httpAuth: mockServices.httpAuth(),
      permissions: mockServices.permissions(),
      models: {} as ModelCatalog,
      builds: {} as BuildService,
      deployments: {} as DeploymentService,
      executions: {} as ExecutionService,
      gateway: {} as Gateway,
      maxPredictBytes: 1024,
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
});
