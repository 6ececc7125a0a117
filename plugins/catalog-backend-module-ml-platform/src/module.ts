import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { catalogProcessingExtensionPoint } from '@backstage/plugin-catalog-node';
import { readMlPlatformPaths } from '@internal/plugin-ml-platform-node';
import { GitRootEntityProvider } from './GitRootEntityProvider';

/**
 * Catalog entities of the ML platform's own Git hosting.
 *
 * @public
 */
export const catalogModuleMlPlatform = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'ml-platform',
  register(env) {
    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        scheduler: coreServices.scheduler,
        catalog: catalogProcessingExtensionPoint,
      },
      async init({ config, logger, scheduler, catalog }) {
        const { gitRoot } = readMlPlatformPaths(config);
        catalog.addEntityProvider(
          new GitRootEntityProvider(
            gitRoot,
            logger,
            scheduler.createScheduledTaskRunner({
              // New models appear seconds after ml-platform:publish:git.
              frequency: { seconds: 3 },
              timeout: { minutes: 1 },
              scope: 'local',
            }),
          ),
        );
      },
    });
  },
});
