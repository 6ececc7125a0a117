import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { eventsServiceRef } from '@backstage/plugin-events-node';
import { notificationService } from '@backstage/plugin-notifications-node';
import { mlPlatformPermissions } from '@internal/plugin-ml-platform-common';
import {
  Runtime,
  RuntimeFactoryContext,
  TypedFactories,
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
import { artifactStoreFactories } from './artifacts/selectArtifactStore';
import { ArtifactRoutes } from './artifacts/ArtifactRoutes';
import { ArtifactTokens } from './artifacts/ArtifactTokens';
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

/**
 * The ML platform backend plugin.
 *
 * @public
 */
export const mlPlatformPlugin = createBackendPlugin({
  pluginId: 'ml-platform',
  register(env) {
    // Factories are called for the chosen type only, once config is read.
    type StoreFactories = ReturnType<typeof artifactStoreFactories>;
    const addedArtifactStores: Parameters<StoreFactories['add']>[] = [];
    const seenStoreTypes = new TypedFactories<unknown, unknown>(
      'artifact store',
      { local: () => undefined },
    );
    env.registerExtensionPoint(mlPlatformArtifactStoreExtensionPoint, {
      addArtifactStore(storeOrType: any, factory?: any) {
        seenStoreTypes.add(storeOrType, factory ?? (() => undefined));
        addedArtifactStores.push([storeOrType, factory]);
      },
    });

    const runtimes = new TypedFactories<Runtime, RuntimeFactoryContext>(
      'runtime',
      {
        local: context =>
          new LocalRuntime({
            logger: context.logger.child({ runtime: 'local' }),
            logDir: path.join(
              readPlatformConfig(context.config).dataDir,
              'logs',
              'deployments',
            ),
            packages: context.packages,
          }),
      },
    );
    env.registerExtensionPoint(mlPlatformRuntimeExtensionPoint, {
      addRuntime(runtimeOrType: any, factory?: any) {
        runtimes.add(runtimeOrType, factory);
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
        discovery: coreServices.discovery,
        catalog: catalogServiceRef,
        events: eventsServiceRef,
        notifications: notificationService,
        dataPlane: mlPlatformDataPlaneServiceRef,
      },
      async init(deps) {
        const { config, logger, scheduler, lifecycle, events } = deps;
        const platformConfig = readPlatformConfig(config);
        const storeFactories = artifactStoreFactories(platformConfig);
        for (const [storeOrType, factory] of addedArtifactStores)
          storeFactories.add(storeOrType, factory);
        const artifactStore = await storeFactories.create(
          platformConfig.artifacts.type,
          { config, logger },
          'mlPlatform.artifacts.type',
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

        const packages = new BuildPackages({
          store,
          artifactStore,
          config: platformConfig,
          logger,
        });
        const artifacts = new ArtifactRoutes({
          store: artifactStore,
          tokens: new ArtifactTokens(() => store.getSigningKey('artifacts')),
          baseUrl: async () =>
            platformConfig.artifacts.baseUrl ??
            (await deps.discovery.getExternalBaseUrl('ml-platform')),
          defaultTtlMs: platformConfig.artifacts.tokenTtlMs,
          tmpDir: path.join(platformConfig.dataDir, 'tmp'),
          maxUploadBytes: platformConfig.batch.maxUploadBytes,
        });
        // Runtimes elsewhere hold scoped artifact tokens, not credentials.
        deps.httpRouter.addAuthPolicy({
          path: '/artifacts',
          allow: 'unauthenticated',
        });
        const runtime = await runtimes.create(
          platformConfig.runtime,
          {
            config,
            logger: logger.child({ runtime: platformConfig.runtime }),
            artifactStore,
            artifactLinks: artifacts,
            packages,
          },
          'mlPlatform.runtime',
        );
        const reconciler = new Reconciler({
          store,
          runtime,
          packages,
          logger,
          scaleToZeroAfterMs: platformConfig.online.scaleToZeroAfterMs,
          claimStaleAfterMs: platformConfig.online.claimStaleAfterMs,
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
        reconciler.start();
        // The reconciler runs on every backend instance; each drives the
        // deployments it claimed (for the local runtime, its own processes).
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
            artifacts,
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
