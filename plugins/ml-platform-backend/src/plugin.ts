import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import {
  ArtifactStore,
  mlPlatformArtifactStoreExtensionPoint,
} from '@internal/plugin-ml-platform-node';
import { selectArtifactStore } from './artifacts/selectArtifactStore';
import { DatabaseMlPlatformStore } from './database/DatabaseMlPlatformStore';
import { readPlatformConfig } from './platformConfig';
import { createRouter } from './router';
import { loadOpenApiDocument } from './schema/openApiDocument';
import { ModelCatalog } from './services/ModelCatalog';

/**
 * The ML platform backend plugin.
 *
 * @public
 */
export const mlPlatformPlugin = createBackendPlugin({
  pluginId: 'ml-platform',
  register(env) {
    const addedArtifactStores: ArtifactStore[] = [];
    env.registerExtensionPoint(mlPlatformArtifactStoreExtensionPoint, {
      addArtifactStore(store) {
        addedArtifactStores.push(store);
      },
    });

    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        database: coreServices.database,
        httpAuth: coreServices.httpAuth,
        httpRouter: coreServices.httpRouter,
        catalog: catalogServiceRef,
      },
      async init({ config, logger, database, httpAuth, httpRouter, catalog }) {
        const platformConfig = readPlatformConfig(config);
        const artifactStore = selectArtifactStore(
          platformConfig,
          addedArtifactStores,
        );
        logger.info(
          `ML platform data in ${platformConfig.dataDir}, artifact store "${artifactStore.type}"`,
        );

        const store = await DatabaseMlPlatformStore.create({ database });
        const models = new ModelCatalog(catalog, store);

        httpRouter.use(
          await createRouter({
            httpAuth,
            models,
            openApi: loadOpenApiDocument(),
          }),
        );
      },
    });
  },
});
