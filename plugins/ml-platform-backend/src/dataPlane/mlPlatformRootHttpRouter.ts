import {
  createBackendFeatureLoader,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import {
  RootHttpRouterConfigureContext,
  rootHttpRouterServiceFactory,
} from '@backstage/backend-defaults/rootHttpRouter';
import {
  DataPlaneDispatcher,
  DataPlaneMiddleware,
  mlPlatformDataPlaneServiceRef,
} from '@internal/plugin-ml-platform-node';

/** @public */
export interface MlPlatformRootHttpRouterOptions {
  /** The portal's own root router set-up; the default applies Backstage's defaults. */
  configure?: (context: RootHttpRouterConfigureContext) => void;
}

/**
 * The root HTTP router with the ML platform's data plane in front: model
 * invocations go from the HTTP server straight to the ml-platform plugin,
 * with CORS (the portal's "Try it" calls them from the browser) and the
 * plugin's own authentication, and skip the rest of the portal's HTTP stack,
 * which costs more than a small prediction. Everything else is routed as
 * `configure` says.
 *
 * @public
 */
export function createMlPlatformRootHttpRouter(
  options: MlPlatformRootHttpRouterOptions = {},
) {
  return createBackendFeatureLoader({
    loader() {
      // One dispatcher per backend, shared by the two services.
      const dispatcher = new DataPlaneDispatcher();
      return [
        rootHttpRouterServiceFactory({
          configure(context) {
            // The cors package uses only Node's own request and response API.
            const cors = context.middleware.cors() as DataPlaneMiddleware;
            dispatcher.attach(context.server, cors);
            if (options.configure) options.configure(context);
            else context.applyDefaults();
          },
        }),
        createServiceFactory({
          service: mlPlatformDataPlaneServiceRef,
          deps: {},
          factory: () => dispatcher,
        }),
      ];
    },
  });
}
