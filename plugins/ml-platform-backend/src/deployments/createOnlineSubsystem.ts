import { HttpAuthService } from '@backstage/backend-plugin-api';
import { ExecutionInputs } from '../batch/ExecutionInputs';
import { Gateway } from '../gateway/Gateway';
import { InvocationRoutes } from '../gateway/InvocationRoutes';
import { gatewayRoutes } from '../gateway/gatewayRoutes';
import { NginxGateway } from '../gateway/nginx/NginxGateway';
import { errorMeta } from '../util/logging';
import { PlatformCore } from '../subsystems/core';
import { Subsystem } from '../subsystems/types';
import { DeploymentService } from './DeploymentService';
import { Reconciler } from './Reconciler';
import { deploymentRoutes } from './routes';

/**
 * Online serving: deployments (desired state), the reconciler that drives
 * the runtime to it, and the gateway that invokes models.
 */
export interface OnlineSubsystem extends Subsystem {
  deployments: DeploymentService;
  gateway: Gateway;
  /** The invocation routes, which the data plane serves too. */
  invocations: InvocationRoutes;
  /** The native data plane, when `mlPlatform.gateway.nginx` enables it. */
  nginx?: NginxGateway;
}

export function createOnlineSubsystem(
  core: PlatformCore,
  deps: {
    httpAuth: HttpAuthService;
    /** Checks a scheduled batch deployment's input and output up front. */
    inputs: ExecutionInputs;
  },
): OnlineSubsystem {
  const { platformConfig, logger, stores, runtime, packages } = core;
  const reconciler = new Reconciler({
    stores,
    runtime,
    packages,
    logger,
    scaleToZeroAfterMs: platformConfig.online.scaleToZeroAfterMs,
    claimStaleAfterMs: platformConfig.online.claimStaleAfterMs,
  });
  const deployments = new DeploymentService({
    stores,
    models: core.models,
    changes: core.changes,
    quotas: core.quotas,
    packages,
    runtime,
    reconciler,
    inputs: deps.inputs,
  });
  const gateway = new Gateway({
    stores,
    runtime,
    reconciler,
    models: core.models,
    logger,
    timeoutMs: platformConfig.gateway.timeoutMs,
    coldStartTimeoutMs: platformConfig.gateway.coldStartTimeoutMs,
  });
  const invocations = new InvocationRoutes({
    httpAuth: deps.httpAuth,
    gateway,
    logger,
    maxBodyBytes: platformConfig.gateway.maxBodyBytes,
    bodyTimeoutMs: platformConfig.gateway.timeoutMs,
    limits: platformConfig.gateway,
  });
  const nginxConfig = platformConfig.gateway.nginx;
  const nginx = nginxConfig
    ? new NginxGateway({
        config: nginxConfig,
        limits: platformConfig.gateway,
        dataDir: platformConfig.dataDir,
        gateway,
        invocations,
        httpAuth: deps.httpAuth,
        logger,
      })
    : undefined;
  reconciler.start();
  return {
    name: 'online',
    deployments,
    gateway,
    invocations,
    nginx,
    routes: (api, ctx) => {
      deploymentRoutes(api, ctx, { deployments });
      gatewayRoutes(api, ctx, { nginx });
    },
    tasks: [
      {
        // The reconciler runs on every backend instance; each drives the
        // deployments it claimed (for the local runtime, its own processes).
        id: 'ml-platform-reconcile',
        scope: 'local',
        frequency: { milliseconds: platformConfig.online.reconcileIntervalMs },
        timeout: { minutes: 5 },
        fn: () => reconciler.reconcileAll(),
      },
    ],
    onStartup: nginx
      ? [
          // Without it, every invocation still works on the portal's port.
          () =>
            nginx
              .start()
              .catch(error =>
                logger.error(
                  'The native gateway (mlPlatform.gateway.nginx) did not start; invocations are served on the portal port only',
                  errorMeta(error),
                ),
              ),
        ]
      : [],
    onShutdown: [
      // Its last calls are read while the recorders still run.
      ...(nginx ? [() => nginx.stop()] : []),
      () => gateway.close(),
      () => reconciler.stop(),
    ],
  };
}
