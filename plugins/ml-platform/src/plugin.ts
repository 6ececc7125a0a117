import type { Entity } from '@backstage/catalog-model';
import {
  createApiFactory,
  createPlugin,
  createRoutableExtension,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import {
  MlPlatformClient,
  isMlModelEntity,
} from '@internal/plugin-ml-platform-common';
import { mlPlatformApiRef } from './api';
import { entityContentRouteRef, rootRouteRef } from './routes';

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
  routes: { root: rootRouteRef, entityContent: entityContentRouteRef },
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

/**
 * The ML Platform tab of a model's entity page: overview, builds,
 * deployments, batch executions and "try it". Mount it at `/ml-platform`
 * (notification links point there) for entities where {@link isMlModel}:
 *
 * ```tsx
 * <EntityLayout.Route path="/ml-platform" title="ML Platform" if={isMlModel}>
 *   <EntityMlPlatformContent />
 * </EntityLayout.Route>
 * ```
 *
 * @public
 */
export const EntityMlPlatformContent = mlPlatformPlugin.provide(
  createRoutableExtension({
    name: 'EntityMlPlatformContent',
    component: () =>
      import('./components/EntityMlPlatformContent').then(
        m => m.EntityMlPlatformContent,
      ),
    mountPoint: entityContentRouteRef,
  }),
);

/**
 * True for catalog components with `spec.type: ml-model`; for `EntitySwitch`
 * and `EntityLayout.Route` `if` props.
 *
 * @public
 */
export function isMlModel(entity: Entity): boolean {
  return isMlModelEntity(entity);
}
