import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import {
  mlPlatformArtifactStoreExtensionPoint,
  mlPlatformRuntimeExtensionPoint,
} from '@internal/plugin-ml-platform-node';
import { KubernetesBatchRuntime } from './KubernetesBatchRuntime';
import { KubernetesRuntime } from './KubernetesRuntime';
import { S3ArtifactStore } from './S3ArtifactStore';
import { loadKubeConfig, readKubernetesRuntimeConfig } from './config';

/**
 * Adds the `kubernetes` runtime (`mlPlatform.runtime: kubernetes`) and the
 * `s3` artifact store (`mlPlatform.artifacts.type: s3`) to the ML platform.
 * Neither connects anywhere unless chosen.
 *
 * @public
 */
export const mlPlatformModuleKubernetes = createBackendModule({
  pluginId: 'ml-platform',
  moduleId: 'kubernetes',
  register(env) {
    env.registerInit({
      deps: {
        runtimes: mlPlatformRuntimeExtensionPoint,
        artifactStores: mlPlatformArtifactStoreExtensionPoint,
        lifecycle: coreServices.lifecycle,
      },
      async init({ runtimes, artifactStores, lifecycle }) {
        artifactStores.addArtifactStore('s3', ({ config }) =>
          S3ArtifactStore.fromConfig(config),
        );
        runtimes.addRuntime('kubernetes', async context => {
          const kubeConfig = loadKubeConfig(context.config);
          const config = readKubernetesRuntimeConfig(context.config);
          const runtime = new KubernetesRuntime({
            kubeConfig,
            config,
            logger: context.logger,
            artifactLinks: context.artifactLinks,
            batch: new KubernetesBatchRuntime({
              kubeConfig,
              config,
              logger: context.logger,
              artifactStore: context.artifactStore,
              artifactLinks: context.artifactLinks,
            }),
          });
          await runtime.start();
          lifecycle.addShutdownHook(() => runtime.shutdown());
          return runtime;
        });
      },
    });
  },
});
