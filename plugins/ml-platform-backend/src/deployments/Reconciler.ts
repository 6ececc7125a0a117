import { LoggerService } from '@backstage/backend-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import {
  DeploymentStatus,
  ModelDeployment,
} from '@internal/plugin-ml-platform-common';
import { OnlineStatus, Runtime } from '@internal/plugin-ml-platform-node';
import { randomUUID } from 'node:crypto';
import { DeploymentRecord, PlatformStores } from '../database';
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
 *
 * Several backend instances may share the database: each deployment is
 * driven by the one instance that claimed it (a row claim with a heartbeat,
 * taken over when the heartbeat goes stale or the owner stops), so a
 * deployment has one set of replicas, not one per instance. Invocations on
 * every instance count towards its idle time, kept in the database; the
 * replicas the owner's runtime reports are written there with their URLs
 * for the gateways of the other instances.
 */
export class Reconciler {
  /** This backend instance, as it appears in claims. */
  readonly instanceId = randomUUID();
  private readonly lastRequest = new Map<string, number>();
  /** Deployments with requests not yet written to the database. */
  private readonly unflushed = new Set<string>();
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
      /** A claim whose owner has not beaten for this long is taken over. */
      claimStaleAfterMs: number;
    },
  ) {}

  start() {
    this.unsubscribe = this.options.runtime.onStatusChange(status => {
      void this.persistStatus(status);
    });
  }

  async stop() {
    this.unsubscribe?.();
    await this.flushRequests().catch(() => {});
    await this.options.runtime.shutdown();
    // Another instance takes these over at its next reconcile.
    await this.options.stores.deployments
      .releaseDeployments(this.instanceId)
      .catch(error =>
        this.options.logger.warn(
          'could not release deployments',
          errorMeta(error),
        ),
      );
  }

  /** The gateway calls this on every request: the deployment is not idle. */
  noteRequest(deploymentId: string) {
    // Only a number per call: the date is made when it is written.
    this.lastRequest.set(deploymentId, Date.now());
    this.unflushed.add(deploymentId);
  }

  /** Brings every online deployment to its desired state; stops orphans. */
  async reconcileAll(): Promise<void> {
    const { stores, runtime, logger } = this.options;
    await this.flushRequests();
    const deployments = await stores.deployments.listDeploymentRecords({
      type: 'online',
    });
    const wanted = new Set(deployments.map(d => d.id));
    for (const id of runtime.listOnline()) {
      if (!wanted.has(id)) {
        logger.info('stopping replicas of deleted deployment', {
          deploymentId: id,
        });
        await runtime.stopOnline(id);
      }
    }
    await stores.deployments.heartbeatDeployments(
      this.instanceId,
      deployments.filter(d => d.owner === this.instanceId).map(d => d.id),
    );
    for (const deployment of deployments) {
      if (deployment.owner === this.instanceId) {
        await this.scaleToZeroIfIdle(deployment);
      }
      await this.reconcile(deployment.id);
    }
  }

  private async flushRequests() {
    if (this.unflushed.size === 0) return;
    const requests = new Map<string, Date>();
    for (const id of this.unflushed) {
      requests.set(id, new Date(this.lastRequest.get(id)!));
    }
    this.unflushed.clear();
    await this.options.stores.deployments.noteDeploymentRequests(requests);
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
    const runsHere = () => runtime.listOnline().includes(deploymentId);
    const activeHere = () =>
      (runtime.getOnlineStatus(deploymentId)?.state ?? 'stopped') !== 'stopped';
    const ownWorkloads = (runtime.scope ?? 'instance') === 'instance';
    const deployment = await stores.deployments.getDeploymentRecord(
      deploymentId,
    );
    if (!deployment || deployment.type !== 'online') {
      if (runsHere()) await runtime.stopOnline(deploymentId);
      await stores.deployments.releaseDeployments(
        this.instanceId,
        deploymentId,
      );
      return;
    }
    const replicas = deployment.scaledToZeroAt ? 0 : deployment.replicas;
    // Scaled to zero and not running here: nothing to drive, nothing to claim.
    if (
      replicas === 0 &&
      deployment.owner !== this.instanceId &&
      !activeHere() &&
      deployment.readyReplicas === 0
    ) {
      return;
    }
    const claimed = await stores.deployments.claimDeployment(
      deploymentId,
      this.instanceId,
      new Date(Date.now() - this.options.claimStaleAfterMs),
    );
    if (!claimed) {
      // Another live instance drives it: this one must not run a second set.
      if (ownWorkloads && runsHere()) {
        logger.info(
          'deployment driven by another instance; stopping the replicas here',
          {
            deploymentId,
            owner: deployment.owner ?? '',
          },
        );
        await runtime.stopOnline(deploymentId);
      }
      return;
    }
    if (deployment.owner !== this.instanceId) {
      logger.info('driving deployment from this instance', {
        deploymentId,
        previousOwner: deployment.owner ?? 'none',
      });
    }
    const build = await stores.builds.getBuild(deployment.buildId);
    try {
      if (!build)
        throw new Error(`its build ${deployment.buildId} no longer exists`);
      await runtime.applyOnline({
        deploymentId,
        modelName: parseEntityRef(deployment.modelRef).name,
        build: await packages.artifactOf(build),
        replicas,
        minReplicas: deployment.minReplicas,
        maxReplicas: deployment.maxReplicas,
        labels: deployment.labels,
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
    if (replicas === 0 && status?.state === 'stopped') {
      // Idle: whichever instance gets the next request starts it.
      await stores.deployments.releaseDeployments(
        this.instanceId,
        deploymentId,
      );
    }
  }

  private async scaleToZeroIfIdle(d: DeploymentRecord) {
    if (d.minReplicas > 0 || d.scaledToZeroAt || d.replicas === 0) return;
    // Idle since the last request on any instance, or since it was created
    // or this backend started.
    const last = Math.max(
      this.lastRequest.get(d.id) ?? 0,
      d.lastRequestAt ? Date.parse(d.lastRequestAt) : 0,
      this.startedAt,
      Date.parse(d.createdAt),
    );
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
    const deployment = await stores.deployments.getDeploymentRecord(
      status.deploymentId,
    );
    // Only the instance that drives it speaks for it.
    if (
      !deployment ||
      (deployment.owner && deployment.owner !== this.instanceId)
    )
      return;
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
    // Replicas with their URLs, for the gateways of other instances.
    const replicaStatus = status.replicas;
    if (
      update.status !== deployment.status ||
      update.readyReplicas !== deployment.readyReplicas ||
      (update.reason ?? null) !== (deployment.reason ?? null) ||
      JSON.stringify(replicaStatus) !==
        JSON.stringify(deployment.replicaStatus ?? [])
    ) {
      await stores.deployments.updateDeployment(status.deploymentId, {
        ...update,
        reason: update.reason ?? '',
        replicaStatus,
      });
    }
  }
}
