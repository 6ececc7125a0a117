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
import { ModelAccess } from './access/ModelAccess';
import { ModelChanges } from './activity/ModelChanges';
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
import { GitRemotes } from './builds/GitSource';
import { seedRepositories } from './builds/RepositorySeeder';
import {
  authenticatedPushTopics,
  carriesSignature,
  parsePushEvent,
} from './builds/triggers/pushEvents';
import { ExecutionInputs } from './batch/ExecutionInputs';
import { Sandbox } from './sandbox/Sandbox';
import { DatabaseMlPlatformStore } from './database/DatabaseMlPlatformStore';
import { DatabaseActivityStore } from './database/activity/DatabaseActivityStore';
import { readPlatformConfig } from './platformConfig';
import { Quotas } from './quotas/Quotas';
import { createRouter } from './router';
import { loadOpenApiDocument } from './schema/openApiDocument';
import { ModelCatalog } from './services/ModelCatalog';
import { createMonitoring } from './monitoring/createMonitoring';
import { createPredictionEvents } from './events/createPredictionEvents';
import { createSubscriptions } from './subscriptions/createSubscriptions';
import { createLogs } from './modelLogs/createLogs';
import { tapBuildLogs, tapDeploymentLogs } from './modelLogs/logTaps';
import { BuildVersions } from './monitoring/BuildVersions';

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
        auditor: coreServices.auditor,
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
        const access = new ModelAccess(deps.permissions);
        const changes = new ModelChanges({
          access,
          auditor: deps.auditor,
          store: new DatabaseActivityStore(await deps.database.getClient()),
          logger,
        });
        const models = new ModelCatalog({
          catalog: deps.catalog,
          store,
          auth: deps.auth,
          access,
          changes,
        });
        const quotas = new Quotas({
          limits: platformConfig.quotas,
          store,
          catalog: deps.catalog,
          auth: deps.auth,
        });
        const git = new GitRemotes(config);
        // Model code never runs uncontained: a sandbox that cannot work
        // stops the start with what to change.
        const sandbox = await Sandbox.create({
          config: platformConfig.sandbox,
          python: platformConfig.python,
          dataDir: platformConfig.dataDir,
          logger,
        });

        const notifier = new BuildNotifier({
          auth: deps.auth,
          catalog: deps.catalog,
          notifications: deps.notifications,
          logger,
        });
        const versions = new BuildVersions(id => store.getBuild(id));
        const logs = await createLogs({
          config,
          logger,
          db: await deps.database.getClient(),
          scheduler,
          lifecycle,
          models,
          versionOf: buildId => versions.get(buildId),
          subjectOf: async (source, id) => {
            if (source === 'build') {
              const build = await store.getBuild(id);
              return build && { modelRef: build.modelRef, buildId: id };
            }
            const subject =
              source === 'deployment'
                ? await store.getDeployment(id)
                : await store.getExecution(id);
            return (
              subject && {
                modelRef: subject.modelRef,
                buildId: subject.buildId,
              }
            );
          },
        });
        const queue = new BuildQueue({
          store,
          runner: new BuildRunner({
            store: tapBuildLogs(store, logs.index),
            artifactStore,
            config: platformConfig,
            git,
            sandbox,
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
          changes,
          quotas,
          git,
          logger,
          queue,
        });

        await seedRepositories({
          seeds: platformConfig.seedRepositories,
          gitRoot: platformConfig.gitRoot,
          store,
          logger,
        });

        // Only signed pushes build: anyone who can reach the backend can
        // post to the events ingress.
        const push = authenticatedPushTopics(config);
        if (push.advice) logger.info(push.advice);
        if (push.topics.length > 0) {
          await events.subscribe({
            id: 'ml-platform-builds',
            topics: push.topics,
            async onEvent(event) {
              if (!carriesSignature(event)) {
                logger.warn(
                  `Push on ${event.topic} ignored: it carries no signature (is the events backend's webhook module installed?)`,
                );
                return;
              }
              const parsed = parsePushEvent(event);
              if (parsed) await builds.onPush(parsed);
            },
          });
        }

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
              sandbox,
            }),
        );
        const packages = new BuildPackages({
          store,
          artifactStore,
          config: platformConfig,
          sandbox,
          logger,
        });
        lifecycle.addShutdownHook(tapDeploymentLogs(runtime, logs.index));
        const reconciler = new Reconciler({
          store,
          runtime,
          packages,
          logger,
          scaleToZeroAfterMs: platformConfig.online.scaleToZeroAfterMs,
        });
        const connections = new BatchConnections(
          config.getOptionalConfig('mlPlatform.batch.connections'),
        );
        const uploads = new Uploads(
          path.join(platformConfig.dataDir, 'uploads'),
          platformConfig.batch.maxUploadBytes,
          platformConfig.batch.uploadQuotaBytes,
        );
        const inputs = new ExecutionInputs({
          uploads,
          connections,
          allowedInputRoots: platformConfig.batch.allowedInputRoots,
          allowedUrlHosts: platformConfig.batch.allowedUrlHosts,
        });
        const deployments = new DeploymentService({
          store,
          models,
          changes,
          quotas,
          packages,
          runtime,
          reconciler,
          inputs,
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
        const subscriptions = await createSubscriptions({
          config,
          logger,
          db: await deps.database.getClient(),
          auth: deps.auth,
          events,
          scheduler,
          lifecycle,
          gateway,
          models,
          getDeployment: id => store.getDeployment(id),
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
          moreMetrics: [subscriptions.metrics],
        });
        if (monitoring.routes.allowUnauthenticatedScrape) {
          for (const scrapePath of ['/metrics', '/runtime/scrape-targets']) {
            deps.httpRouter.addAuthPolicy({
              path: scrapePath,
              allow: 'unauthenticated',
            });
          }
        }
        const predictionEvents = await createPredictionEvents({
          config,
          logger,
          db: await deps.database.getClient(),
          scheduler,
          lifecycle,
          events,
          gateway,
          models,
          versionOf: buildId => versions.get(buildId),
        });
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
        const batchRunner = new BatchRunner({
          store,
          runtime,
          packages,
          artifactStore,
          uploads,
          connections,
          inputs,
          workersCanRead: file => sandbox.canRead(file),
          urlReader: deps.urlReader,
          logger,
          workDir: path.join(sandbox.workDir, 'executions'),
          heartbeatMs: platformConfig.batch.heartbeatMs,
          staleAfterMs: platformConfig.batch.staleAfterMs,
          retryBackoffMs: platformConfig.batch.retryBackoffMs,
          onWorkerLog: (executionId, line) =>
            logs.index.add('execution', executionId, line),
          onChunkAttempt: attempt => {
            monitoring.onChunkAttempt?.(attempt);
            predictionEvents.onChunkAttempt?.(attempt);
          },
        });
        const executions = new ExecutionService({
          store,
          models,
          access,
          changes,
          quotas,
          packages,
          runner: batchRunner,
          uploads,
          inputs,
          artifactStore,
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
        await scheduler.scheduleTask({
          id: 'ml-platform-upload-retention',
          frequency: { hours: 1 },
          timeout: { minutes: 10 },
          initialDelay: { seconds: 30 },
          fn: async () => {
            await executions.deleteExpiredUploads(
              platformConfig.batch.uploadRetentionMs,
            );
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
          bodyTimeoutMs: platformConfig.gateway.timeoutMs,
          limits: platformConfig.gateway,
        });
        deps.httpRouter.use(
          await createRouter({
            httpAuth: deps.httpAuth,
            access,
            changes,
            models,
            builds,
            deployments,
            executions,
            invocations,
            monitoring: monitoring.routes,
            predictionEvents: predictionEvents.service,
            subscriptions: subscriptions.service,
            logs: logs.search,
            openApi: loadOpenApiDocument(),
            requestLimits: {
              bodyTimeoutMs: platformConfig.gateway.timeoutMs,
              maxJsonDepth: platformConfig.gateway.maxJsonDepth,
            },
          }),
        );
        // Invocations skip the portal's HTTP stack where the backend allows it.
        const leaveDataPlane = deps.dataPlane.register(invocations);
        lifecycle.addShutdownHook(leaveDataPlane);
      },
    });
  },
});
