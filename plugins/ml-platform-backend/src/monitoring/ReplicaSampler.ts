import { ReplicaHealth } from '@internal/plugin-ml-platform-common';
import { Runtime } from '@internal/plugin-ml-platform-node';
import { ReplicaRow } from '../database/metrics/types';
import { BuildVersions } from './BuildVersions';

/** A deployment the runtime runs, with its replicas' health now. */
export interface DeploymentHealth {
  deploymentId: string;
  modelRef: string;
  desiredReplicas: number;
  replicas: ReplicaHealth[];
}

export interface ReplicaSamplerOptions {
  runtime: Runtime;
  /** The model a deployment belongs to, or undefined when unknown. */
  modelOf: (deploymentId: string) => Promise<string | undefined>;
  versions: BuildVersions;
  /** This backend instance: local replicas are its own. */
  instanceId: string;
}

/**
 * Replica health from the runtime: live (for the exposition and the API)
 * and as rows per minute for the store, where restarts and CPU become what
 * was added since the previous sample.
 */
export class ReplicaSampler {
  /** Per replica: what the previous sample saw. */
  private readonly previous = new Map<
    string,
    { restarts: number; cpuSeconds?: number }
  >();

  constructor(private readonly options: ReplicaSamplerOptions) {}

  /** Every deployment this runtime runs, with each replica's health. */
  async current(): Promise<DeploymentHealth[]> {
    const { runtime, modelOf, versions } = this.options;
    const deployments = await Promise.all(
      runtime.listOnline().map(async deploymentId => {
        const status = runtime.getOnlineStatus(deploymentId);
        const modelRef = await modelOf(deploymentId);
        if (!status || !modelRef) return undefined;
        const usage = new Map(
          ((await runtime.getReplicaUsage?.(deploymentId)) ?? []).map(u => [
            u.replicaId,
            u,
          ]),
        );
        const replicas = await Promise.all(
          status.replicas.map(async (r): Promise<ReplicaHealth> => {
            const used = usage.get(r.id);
            return {
              deploymentId,
              replicaId: r.id,
              buildId: r.buildId,
              version: await versions.get(r.buildId),
              state: r.state,
              ready: r.state === 'ready',
              restarts: r.restarts,
              ...(used
                ? { cpuSeconds: used.cpuSeconds, memoryBytes: used.memoryBytes }
                : {}),
              ...(r.lastError ? { lastError: r.lastError } : {}),
              startedAt: r.startedAt,
            };
          }),
        );
        return {
          deploymentId,
          modelRef,
          desiredReplicas: status.desiredReplicas,
          replicas,
        };
      }),
    );
    return deployments.filter((d): d is DeploymentHealth => d !== undefined);
  }

  /**
   * Rows for the bucket starting at `bucketStart`: per deployment and build,
   * the restarts and CPU seconds since the previous sample, memory, ready
   * and desired replicas.
   */
  async sample(bucketStart: number): Promise<ReplicaRow[]> {
    const rows = new Map<string, ReplicaRow>();
    const seen = new Set<string>();
    for (const deployment of await this.current()) {
      for (const replica of deployment.replicas) {
        const id = `${deployment.deploymentId}/${replica.replicaId}`;
        seen.add(id);
        const before = this.previous.get(id);
        // A new process (after a restart) starts its CPU time from zero.
        const restarted = before && replica.restarts > before.restarts;
        const cpu =
          replica.cpuSeconds === undefined
            ? 0
            : replica.cpuSeconds -
              (restarted || before?.cpuSeconds === undefined
                ? 0
                : before.cpuSeconds);
        this.previous.set(id, {
          restarts: replica.restarts,
          cpuSeconds: replica.cpuSeconds,
        });
        const key = `${deployment.deploymentId}/${replica.buildId}`;
        let row = rows.get(key);
        if (!row) {
          row = {
            resolution: 60,
            bucketStart,
            modelRef: deployment.modelRef,
            deploymentId: deployment.deploymentId,
            buildId: replica.buildId,
            version: replica.version ?? 0,
            instanceId: this.options.instanceId,
            samples: 1,
            restarts: 0,
            cpuSeconds: 0,
            memoryBytesMax: 0,
            readyMin: 0,
            desiredMax: deployment.desiredReplicas,
          };
          rows.set(key, row);
        }
        row.restarts += Math.max(0, replica.restarts - (before?.restarts ?? 0));
        row.cpuSeconds += Math.max(0, cpu);
        row.memoryBytesMax += replica.memoryBytes ?? 0;
        if (replica.ready) row.readyMin++;
      }
    }
    for (const id of this.previous.keys()) {
      if (!seen.has(id)) this.previous.delete(id);
    }
    return [...rows.values()];
  }
}
