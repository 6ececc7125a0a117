import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { eventsServiceRef } from '@backstage/plugin-events-node';
import { notificationService } from '@backstage/plugin-notifications-node';
import { mlPlatformPermissions } from '@internal/plugin-ml-platform-common';
import {
  ArtifactStore,
  Runtime,
  mlPlatformArtifactStoreExtensionPoint,
  mlPlatformDataPlaneServiceRef,
  mlPlatformRuntimeExtensionPoint,
} from '@internal/plugin-ml-platform-node';
import path from 'node:path';
import { BatchConnections } from './batch/BatchConnections';
import { BatchRunner } from './batch/BatchRunner';
import { ExecutionService } from './batch/ExecutionService';
import { Uploads } from './batch/Uploads';
import { BuildPackages } from './deployments/BuildPackages';
import { DeploymentService } from './deployments/DeploymentService';
import { Reconciler } from './deployments/Reconciler';
import { Gateway } from './gateway/Gateway';
import { InvocationRoutes } from './gateway/InvocationRoutes';
import { LocalRuntime } from './runtimes/local';
import { selectRuntime } from './runtimes/selectRuntime';
import { selectArtifactStore } from './artifacts/selectArtifactStore';
import { BuildNotifier } from './builds/BuildNotifier';
import { BuildQueue } from './builds/BuildQueue';
import { BuildRunner } from './builds/BuildRunner';
import { BuildService } from './builds/BuildService';
import { GitCredentials } from './builds/GitSource';
import { seedRepositories } from './builds/RepositorySeeder';
import { PUSH_TOPICS, parsePushEvent } from './builds/triggers/pushEvents';
import { DatabaseMlPlatformStore } from './database/DatabaseMlPlatformStore';
import { readPlatformConfig } from './platformConfig';
import { createRouter } from './router';
import { loadOpenApiDocument } from './schema/openApiDocument';
import { ModelCatalog } from './services/ModelCatalog';
import { createMonitoring } from './monitoring/createMonitoring';

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

    const addedRuntimes: Runtime[] = [];
    env.registerExtensionPoint(mlPlatformRuntimeExtensionPoint, {
      addRuntime(runtime) {
        addedRuntimes.push(runtime);
      },
    });

    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        database: coreServices.database,
        httpAuth: coreServices.httpAuth,
        httpRouter: coreServices.httpRouter,
        auth: coreServices.auth,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        scheduler: coreServices.scheduler,
        urlReader: coreServices.urlReader,
        lifecycle: coreServices.lifecycle,
        catalog: catalogServiceRef,
        events: eventsServiceRef,
        notifications: notificationService,
        dataPlane: mlPlatformDataPlaneServiceRef,
      },
      async init(deps) {
        const { config, logger, scheduler, lifecycle, events } = deps;
        const platformConfig = readPlatformConfig(config);
        const artifactStore = selectArtifactStore(
          platformConfig,
          addedArtifactStores,
        );
        logger.info(
          `ML platform data in ${platformConfig.dataDir}, artifact store "${artifactStore.type}"`,
        );
        deps.permissionsRegistry.addPermissions(mlPlatformPermissions);

        const store = await DatabaseMlPlatformStore.create({
          database: deps.database,
        });
        const models = new ModelCatalog(deps.catalog, store, deps.auth);
        const credentials = new GitCredentials(config);

        const notifier = new BuildNotifier({
          auth: deps.auth,
          catalog: deps.catalog,
          notifications: deps.notifications,
          logger,
        });
        const queue = new BuildQueue({
          store,
          runner: new BuildRunner({
            store,
            artifactStore,
            config: platformConfig,
            credentials,
            logger,
          }),
          logger,
          concurrency: platformConfig.builds.concurrency,
          heartbeatMs: platformConfig.builds.heartbeatMs,
          staleAfterMs: platformConfig.builds.staleAfterMs,
          timeoutMs: platformConfig.builds.timeoutMs,
          onFinished: build => notifier.onFinished(build),
        });
        const builds = new BuildService({
          store,
          models,
          credentials,
          logger,
          queue,
        });

        await seedRepositories({
          seeds: platformConfig.seedRepositories,
          gitRoot: platformConfig.gitRoot,
          store,
          logger,
        });

        await events.subscribe({
          id: 'ml-platform-builds',
          topics: PUSH_TOPICS,
          async onEvent(event) {
            const push = parsePushEvent(event);
            if (push) await builds.onPush(push);
          },
        });

        if (platformConfig.builds.pollIntervalMs > 0) {
          await scheduler.scheduleTask({
            id: 'ml-platform-git-poll',
            frequency: { milliseconds: platformConfig.builds.pollIntervalMs },
            timeout: { minutes: 10 },
            initialDelay: { seconds: 5 },
            fn: async () => {
              await builds.poll();
            },
          });
        }

        lifecycle.addStartupHook(() => queue.start());
        lifecycle.addShutdownHook(() => queue.stop());

        const runtime = selectRuntime(
          platformConfig.runtime,
          addedRuntimes,
          () =>
            new LocalRuntime({
              logger: logger.child({ runtime: 'local' }),
              logDir: path.join(platformConfig.dataDir, 'logs', 'deployments'),
            }),
        );
        const packages = new BuildPackages({
          store,
          artifactStore,
          config: platformConfig,
          logger,
        });
        const reconciler = new Reconciler({
          store,
          runtime,
          packages,
          logger,
          scaleToZeroAfterMs: platformConfig.online.scaleToZeroAfterMs,
        });
        const deployments = new DeploymentService({
          store,
          models,
          packages,
          runtime,
          reconciler,
        });
        const gateway = new Gateway({
          store,
          runtime,
          reconciler,
          models,
          logger,
          timeoutMs: platformConfig.gateway.timeoutMs,
          coldStartTimeoutMs: platformConfig.gateway.coldStartTimeoutMs,
        });
        const monitoring = await createMonitoring({
          config,
          logger,
          database: deps.database,
          scheduler,
          lifecycle,
          store,
          runtime,
          models,
          gateway,
        });
        if (monitoring.routes.allowUnauthenticatedScrape) {
          for (const scrapePath of ['/metrics', '/runtime/scrape-targets']) {
            deps.httpRouter.addAuthPolicy({
              path: scrapePath,
              allow: 'unauthenticated',
            });
          }
        }
        reconciler.start();
        // The reconciler runs on every backend instance: each drives its own
        // runtime (for the local runtime, its own child processes).
        await scheduler.scheduleTask({
          id: 'ml-platform-reconcile',
          scope: 'local',
          frequency: {
            milliseconds: platformConfig.online.reconcileIntervalMs,
          },
          timeout: { minutes: 5 },
          fn: () => reconciler.reconcileAll(),
        });
        const connections = new BatchConnections(
          config.getOptionalConfig('mlPlatform.batch.connections'),
        );
        const uploads = new Uploads(
          path.join(platformConfig.dataDir, 'uploads'),
          platformConfig.batch.maxUploadBytes,
        );
        const batchRunner = new BatchRunner({
          store,
          runtime,
          packages,
          artifactStore,
          uploads,
          connections,
          urlReader: deps.urlReader,
          logger,
          workDir: path.join(platformConfig.dataDir, 'executions'),
          heartbeatMs: platformConfig.batch.heartbeatMs,
          staleAfterMs: platformConfig.batch.staleAfterMs,
          retryBackoffMs: platformConfig.batch.retryBackoffMs,
          onChunkAttempt: monitoring.onChunkAttempt,
        });
        const executions = new ExecutionService({
          store,
          models,
          packages,
          runner: batchRunner,
          uploads,
          connections,
          artifactStore,
          allowedInputRoots: platformConfig.batch.allowedInputRoots,
          logger,
        });
        lifecycle.addStartupHook(() => batchRunner.start());
        await scheduler.scheduleTask({
          id: 'ml-platform-batch-schedules',
          frequency: { milliseconds: platformConfig.batch.scheduleCheckMs },
          timeout: { minutes: 5 },
          fn: async () => {
            await executions.runSchedules();
          },
        });

        lifecycle.addShutdownHook(async () => {
          await batchRunner.stop();
          await gateway.close();
          await reconciler.stop();
          await connections.close();
        });

        const invocations = new InvocationRoutes({
          httpAuth: deps.httpAuth,
          gateway,
          logger,
          maxBodyBytes: platformConfig.gateway.maxBodyBytes,
        });
        deps.httpRouter.use(
          await createRouter({
            httpAuth: deps.httpAuth,
            permissions: deps.permissions,
            models,
            builds,
            deployments,
            executions,
            invocations,
            monitoring: monitoring.routes,
            openApi: loadOpenApiDocument(),
          }),
        );
        // Invocations skip the portal's HTTP stack where the backend allows it.
        const leaveDataPlane = deps.dataPlane.register(invocations);
        lifecycle.addShutdownHook(leaveDataPlane);
      },
    });
  },
});
