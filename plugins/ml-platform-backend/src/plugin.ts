import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { eventsServiceRef } from '@backstage/plugin-events-node';
import { notificationService } from '@backstage/plugin-notifications-node';
import {
  Runtime,
  RuntimeFactory,
  RuntimeFactoryContext,
  TypedFactories,
  mlPlatformArtifactStoreExtensionPoint,
  mlPlatformDataPlaneServiceRef,
  mlPlatformRuntimeExtensionPoint,
} from '@internal/plugin-ml-platform-node';
import { AddedArtifactStore } from './artifacts/selectArtifactStore';
import { createBatchSubsystem } from './batch/createBatchSubsystem';
import { createBuildsSubsystem } from './builds/createBuildsSubsystem';
import { createOnlineSubsystem } from './deployments/createOnlineSubsystem';
import { createAlertingSubsystem } from './monitoring/alerts/createAlertingSubsystem';
import { createMonitoringSubsystem } from './monitoring/createMonitoringSubsystem';
import { createPredictionEventsSubsystem } from './events/createPredictionEventsSubsystem';
import { createLogsSubsystem } from './modelLogs/createLogsSubsystem';
import { tapBuildLogs } from './modelLogs/logTaps';
import { createSubscriptionsSubsystem } from './subscriptions/createSubscriptionsSubsystem';
import { createRouter } from './router';
import { createPlatformCore } from './subsystems/core';
import { Subsystem } from './subsystems/types';

/**
 * The ML platform backend plugin: a composition root. The core (config,
 * stores, access, models, runtime) and each subsystem (monitoring, builds,
 * online, batch) are made by their factories; here their routes, scheduled tasks
 * and lifecycle hooks are wired to the backend.
 *
 * @public
 */
export const mlPlatformPlugin = createBackendPlugin({
  pluginId: 'ml-platform',
  register(env) {
    // Factories are called for the chosen type only, once config is read.
    const addedArtifactStores: AddedArtifactStore[] = [];
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

    // The built-in local runtime needs what init makes (the sandbox).
    const builtIn: { local?: RuntimeFactory } = {};
    const runtimes = new TypedFactories<Runtime, RuntimeFactoryContext>(
      'runtime',
      { local: context => builtIn.local!(context) },
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
        auditor: coreServices.auditor,
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
        const { scheduler, lifecycle } = deps;
        const core = await createPlatformCore({
          ...deps,
          runtimes,
          builtInRuntimes: builtIn,
          addedArtifactStores,
        });
        // Runtimes elsewhere hold scoped artifact tokens, not credentials.
        deps.httpRouter.addAuthPolicy({
          path: '/artifacts',
          allow: 'unauthenticated',
        });
        const logs = createLogsSubsystem(core);
        // Build lines reach the searchable logs as they are stored.
        const builds = await createBuildsSubsystem(
          {
            ...core,
            stores: {
              ...core.stores,
              builds: tapBuildLogs(core.stores.builds, logs.index),
            },
          },
          deps,
        );
        const batch = createBatchSubsystem(core, deps);
        batch.onWorkerLog((executionId, line) =>
          logs.index.add('execution', executionId, line),
        );
        const online = createOnlineSubsystem(core, {
          httpAuth: deps.httpAuth,
          inputs: batch.inputs,
        });
        const subscriptions = await createSubscriptionsSubsystem(core, {
          events: deps.events,
          auth: deps.auth,
          gateway: online.gateway,
        });
        const monitoring = createMonitoringSubsystem(core, {
          gateway: online.gateway,
          chunkAttempts: batch,
          moreMetrics: [subscriptions.metrics],
        });
        const predictionEvents = createPredictionEventsSubsystem(core, {
          events: deps.events,
          gateway: online.gateway,
          chunkAttempts: batch,
        });
        const alerting = createAlertingSubsystem(core, {
          notifications: deps.notifications,
          source: monitoring.source,
        });
        // Recorders first: they stop last, recording the others' last calls
        // and lines; subscriptions stop before the gateway they call.
        const subsystems: Subsystem[] = [
          monitoring,
          predictionEvents,
          logs,
          builds,
          online,
          subscriptions,
          batch,
          alerting,
        ];
        // Prometheus scrapes without credentials where config allows it;
        // Alertmanager's webhook holds a token of its own.
        for (const path of [
          ...monitoring.unauthenticatedPaths,
          ...alerting.unauthenticatedPaths,
        ]) {
          deps.httpRouter.addAuthPolicy({ path, allow: 'unauthenticated' });
        }

        for (const subsystem of subsystems) {
          for (const task of subsystem.tasks) {
            await scheduler.scheduleTask(task);
          }
          for (const hook of subsystem.onStartup) {
            lifecycle.addStartupHook(hook);
          }
        }
        // Stopped last-made first, each subsystem's hooks in order.
        lifecycle.addShutdownHook(async () => {
          for (const subsystem of [...subsystems].reverse()) {
            for (const hook of subsystem.onShutdown) await hook();
          }
        });

        deps.httpRouter.use(
          await createRouter({
            httpAuth: deps.httpAuth,
            access: core.access,
            changes: core.changes,
            models: core.models,
            invocations: online.invocations,
            artifacts: core.artifacts,
            subsystems,
            requestLimits: {
              bodyTimeoutMs: core.platformConfig.gateway.timeoutMs,
              maxJsonDepth: core.platformConfig.gateway.maxJsonDepth,
            },
          }),
        );
        // Invocations skip the portal's HTTP stack where the backend allows it.
        const leaveDataPlane = deps.dataPlane.register(online.invocations);
        lifecycle.addShutdownHook(leaveDataPlane);
      },
    });
  },
});
