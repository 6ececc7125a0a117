import {
  createApiFactory,
  createPlugin,
  createRoutableExtension,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { MlPlatformClient } from '@internal/plugin-ml-platform-common';
import { mlPlatformApiRef } from './api';
import { rootRouteRef } from './routes';

/**
 * The ML platform plugin for portals on the legacy frontend system.
 * Portals on the new frontend system use the `/alpha` export.
 *
 * @public
 */
export const mlPlatformPlugin = createPlugin({
  id: 'ml-platform',
  apis: [
    createApiFactory({
      api: mlPlatformApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new MlPlatformClient({ discoveryApi, fetchApi }),
    }),
  ],
  routes: { root: rootRouteRef },
});

/**
 * The ML Platform page: every model with its builds, deployments and
 * executions. Mount it on a route, e.g. `/ml-platform`.
 *
 * @public
 */
export const MlPlatformPage = mlPlatformPlugin.provide(
  createRoutableExtension({
    name: 'MlPlatformPage',
    component: () => import('./components/ModelsPage').then(m => m.ModelsPage),
    mountPoint: rootRouteRef,
  }),
);
