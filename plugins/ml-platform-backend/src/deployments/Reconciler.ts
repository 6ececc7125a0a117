import { LoggerService } from '@backstage/backend-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import {
  DeploymentStatus,
  ModelDeployment,
} from '@internal/plugin-ml-platform-common';
import { OnlineStatus, Runtime } from '@internal/plugin-ml-platform-node';
import { PlatformStores } from '../database';
import { BuildPackages } from './BuildPackages';
import { errorMeta } from '../util/logging';

const STATE_TO_STATUS: Record<OnlineStatus['state'], DeploymentStatus> = {
  deploying: 'deploying',
  ready: 'ready',
  degraded: 'degraded',
  stopped: 'stopped',
};

/**
 * Drives the runtime to the desired state in the database: on start (after a
 * backend restart every online deployment comes back), on every change, and
 * on a timer. Also scales idle deployments with `minReplicas: 0` to zero and
 * wakes them on the next request.
 */
export class Reconciler {
  private readonly lastRequest = new Map<string, number>();
  private readonly startedAt = Date.now();
  /** One reconcile per deployment at a time; later calls join the queue. */
  private readonly chains = new Map<string, Promise<void>>();
  private unsubscribe?: () => void;

  constructor(
    private readonly options: {
      stores: Pick<PlatformStores, 'builds' | 'deployments'>;
      runtime: Runtime;
      packages: BuildPackages;
      logger: LoggerService;
      scaleToZeroAfterMs: number;
    },
  ) {}

  start() {
    this.unsubscribe = this.options.runtime.onStatusChange(status => {
      void this.persistStatus(status);
    });
  }

  async stop() {
    this.unsubscribe?.();
    await this.options.runtime.shutdown();
  }

  /** The gateway calls this on every request: the deployment is not idle. */
  noteRequest(deploymentId: string) {
    this.lastRequest.set(deploymentId, Date.now());
  }

  /** Brings every online deployment to its desired state; stops orphans. */
  async reconcileAll(): Promise<void> {
    const deployments = await this.options.stores.deployments.listDeployments({
      type: 'online',
    });
    const wanted = new Set(deployments.map(d => d.id));
    for (const id of this.options.runtime.listOnline()) {
      if (!wanted.has(id)) {
        this.options.logger.info('stopping replicas of deleted deployment', {
          deploymentId: id,
        });
        await this.options.runtime.stopOnline(id);
      }
    }
    for (const deployment of deployments) {
      await this.scaleToZeroIfIdle(deployment);
      await this.reconcile(deployment.id);
    }
  }

  /** Applies one deployment's desired state (serialized per deployment). */
  reconcile(deploymentId: string): Promise<void> {
    const previous = this.chains.get(deploymentId) ?? Promise.resolve();
    const next = previous
      .catch(() => {})
      .then(() => this.apply(deploymentId))
      .finally(() => {
        if (this.chains.get(deploymentId) === next)
          this.chains.delete(deploymentId);
      });
    this.chains.set(deploymentId, next);
    return next;
  }

  /** Starts a scaled-to-zero deployment again (a cold start). */
  async wake(deployment: ModelDeployment): Promise<void> {
    this.noteRequest(deployment.id);
    if (!deployment.scaledToZeroAt) return;
    this.options.logger.info('waking deployment from zero', {
      deploymentId: deployment.id,
      model: deployment.modelRef,
    });
    await this.options.stores.deployments.updateDeployment(deployment.id, {
      scaledToZeroAt: null,
      status: 'deploying',
      reason: 'Starting a replica for a request (cold start)',
    });
    await this.reconcile(deployment.id);
  }

  private async apply(deploymentId: string) {
    const { stores, runtime, packages, logger } = this.options;
    const deployment = await stores.deployments.getDeployment(deploymentId);
    if (!deployment || deployment.type !== 'online') {
      if (runtime.listOnline().includes(deploymentId))
        await runtime.stopOnline(deploymentId);
      return;
    }
    const build = await stores.builds.getBuild(deployment.buildId);
    try {
      if (!build)
        throw new Error(`its build ${deployment.buildId} no longer exists`);
      const pkg = await packages.get(build);
      await runtime.applyOnline({
        deploymentId,
        modelName: parseEntityRef(deployment.modelRef).name,
        package: pkg,
        replicas: deployment.scaledToZeroAt ? 0 : deployment.replicas,
      });
    } catch (error) {
      logger.warn('cannot run deployment', {
        deploymentId,
        model: deployment.modelRef,
        ...errorMeta(error),
      });
      await stores.deployments.updateDeployment(deploymentId, {
        status: 'failed',
        reason: `Cannot run build v${build?.version ?? '?'}: ${
          (error as Error).message
        }`,
        readyReplicas: 0,
      });
      return;
    }
    const status = runtime.getOnlineStatus(deploymentId);
    if (status) await this.persistStatus(status);
  }

  private async scaleToZeroIfIdle(d: ModelDeployment) {
    if (d.minReplicas > 0 || d.scaledToZeroAt || d.replicas === 0) return;
    // Idle since the last request, or since it was created or this backend started.
    const last =
      this.lastRequest.get(d.id) ??
      Math.max(this.startedAt, Date.parse(d.createdAt));
    if (Date.now() - last < this.options.scaleToZeroAfterMs) return;
    this.options.logger.info('deployment idle; scaling it to zero', {
      deploymentId: d.id,
      model: d.modelRef,
    });
    await this.options.stores.deployments.updateDeployment(d.id, {
      scaledToZeroAt: new Date().toISOString(),
    });
  }

  private async persistStatus(status: OnlineStatus) {
    const { stores } = this.options;
    const deployment = await stores.deployments.getDeployment(
      status.deploymentId,
    );
    if (!deployment) return;
    let reason = status.reason;
    if (deployment.scaledToZeroAt && status.state === 'stopped') {
      const idle = Math.round(this.options.scaleToZeroAfterMs / 60_000);
      reason = `Scaled to zero after ${idle} min without requests; the next request starts a replica`;
    }
    const update = {
      status: STATE_TO_STATUS[status.state],
      reason: reason ?? undefined,
      readyReplicas: status.readyReplicas,
    };
    if (
      update.status !== deployment.status ||
      update.readyReplicas !== deployment.readyReplicas ||
      (update.reason ?? null) !== (deployment.reason ?? null)
    ) {
      await stores.deployments.updateDeployment(status.deploymentId, {
        ...update,
        reason: update.reason ?? '',
      });
    }
  }
}
