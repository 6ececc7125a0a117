import { LoggerService } from '@backstage/backend-plugin-api';
import {
  ModelPackages,
  OnlineDeploymentSpec,
  OnlineStatus,
  ReplicaUsage,
  Runtime,
  RuntimeLogLine,
} from '@internal/plugin-ml-platform-node';
import type { ProcessLauncher } from '@internal/ml-platform-model-runtime';
import { KeyedQueue } from '../../util/KeyedQueue';
import { DeploymentLogs, deploymentLogFile } from './DeploymentLogs';
import { LocalBatchRuntime } from './LocalBatchRuntime';
import { LocalDeployment } from './LocalDeployment';
import { SupervisorSettings } from './ReplicaSupervisor';
import { readProcessUsage } from './processUsage';

/**
 * How the local runtime contains model processes: their command line and
 * environment, and the directories they write to.
 *
 * @public
 */
export interface LocalSandbox {
  /** How to start a replica or batch worker whose HOME is `home`. */
  launcher(role: 'replica' | 'batch', home: string): ProcessLauncher;
  /** Gives model processes a directory they write to (batch results). */
  own(dir: string): Promise<void>;
}

/** @public */
export interface LocalRuntimeOptions {
  logger: LoggerService;
  /** Unpacks builds on this host (the build's workspace or its artifact). */
  packages: ModelPackages;
  /** Deployment logs go to `<logDir>/<deploymentId>.log` (JSON lines). */
  logDir: string;
  /** Delay before restarting a dead replica, doubling per failure. Default 500 ms to 30 s. */
  restartBackoff?: { initialMs: number; maxMs: number };
  /** Failures within `crashLoopWindowMs` that make a crash loop (`degraded`). Default 5. */
  crashLoopRestarts?: number;
  /** Default 5 minutes. */
  crashLoopWindowMs?: number;
  /** A replica that stayed ready this long has its failure record cleared. Default 60 s. */
  stableAfterMs?: number;
  /** How long a replica may take to load its model. Default 60 s. */
  readyTimeoutMs?: number;
  /** SIGTERM lets in-flight requests finish; SIGKILL after this. Default 15 s (the server drains for 10 s). */
  stopGraceMs?: number;
  /** Contains the processes; without it they run as the backend does. */
  sandbox?: LocalSandbox;
  /** Idle batch workers wait this long for their build's next execution. Default 0: none. */
  batchWorkerIdleMs?: number;
}

/**
 * The embedded default runtime: each online replica is a supervised
 * `mlp_runtime.server` child process on this host, listening on 127.0.0.1;
 * batch executions run on a pool of worker processes, kept for a while for
 * the next execution of the same build.
 */
export class LocalRuntime implements Runtime {
  readonly type = 'local';
  readonly batch: LocalBatchRuntime;

  private readonly settings: SupervisorSettings;
  private readonly deployments = new Map<string, LocalDeployment>();
  private readonly logs = new Map<string, Promise<DeploymentLogs>>();
  /** Serializes apply/stop per deployment, so the last call wins. */
  private readonly queues = new KeyedQueue();
  private readonly statusListeners = new Set<(status: OnlineStatus) => void>();
  private readonly logListeners = new Map<
    string,
    Set<(line: RuntimeLogLine) => void>
  >();
  private readonly lastStates = new Map<string, string>();
  private shuttingDown = false;

  constructor(private readonly options: LocalRuntimeOptions) {
    this.settings = {
      restartBackoff: options.restartBackoff ?? {
        initialMs: 500,
        maxMs: 30_000,
      },
      crashLoopRestarts: options.crashLoopRestarts ?? 5,
      crashLoopWindowMs: options.crashLoopWindowMs ?? 5 * 60_000,
      stableAfterMs: options.stableAfterMs ?? 60_000,
      readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
      stopGraceMs: options.stopGraceMs ?? 15_000,
      launcher: options.sandbox
        ? home => options.sandbox!.launcher('replica', home)
        : undefined,
    };
    this.batch = new LocalBatchRuntime({
      packages: options.packages,
      readyTimeoutMs: this.settings.readyTimeoutMs,
      sandbox: options.sandbox,
      workerIdleMs: options.batchWorkerIdleMs,
    });
  }

  applyOnline(spec: OnlineDeploymentSpec): Promise<void> {
    if (!Number.isInteger(spec.replicas) || spec.replicas < 0) {
      return Promise.reject(
        new TypeError(
          `replicas must be a non-negative integer, got ${spec.replicas}`,
        ),
      );
    }
    return this.enqueue(spec.deploymentId, async () => {
      if (this.shuttingDown) {
        throw new Error('the local runtime is shutting down');
      }
      const logs = await this.logsFor(spec.deploymentId);
      const local = {
        ...spec,
        package: await this.options.packages.get(spec.build),
      };
      if (this.shuttingDown) {
        throw new Error('the local runtime is shutting down');
      }
      let deployment = this.deployments.get(spec.deploymentId);
      if (!deployment) {
        deployment = new LocalDeployment(local, logs, this.settings, status =>
          this.emitStatus(status),
        );
        this.deployments.set(spec.deploymentId, deployment);
      }
      deployment.apply(local);
    });
  }

  stopOnline(deploymentId: string): Promise<void> {
    return this.enqueue(deploymentId, () => this.stopDeployment(deploymentId));
  }

  getOnlineStatus(deploymentId: string): OnlineStatus | undefined {
    return this.deployments.get(deploymentId)?.status();
  }

  listOnline(): string[] {
    return [...this.deployments.keys()];
  }

  readyEndpoints(deploymentId: string): string[] {
    const endpoints = this.deployments.get(deploymentId)?.readyEndpoints;
    return endpoints ? endpoints.slice() : [];
  }

  /** CPU and memory of each replica process, from /proc (Linux). */
  async getReplicaUsage(deploymentId: string): Promise<ReplicaUsage[]> {
    const replicas = this.getOnlineStatus(deploymentId)?.replicas ?? [];
    const usage = await Promise.all(
      replicas.map(async r => {
        const measured = r.pid !== undefined && (await readProcessUsage(r.pid));
        return measured ? { replicaId: r.id, ...measured } : undefined;
      }),
    );
    return usage.filter((u): u is ReplicaUsage => u !== undefined);
  }

  onStatusChange(listener: (status: OnlineStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => {
      this.statusListeners.delete(listener);
    };
  }

  async readLogs(
    deploymentId: string,
    options?: { tail?: number; afterSeq?: number },
  ): Promise<RuntimeLogLine[]> {
    const logs = await this.logsFor(deploymentId);
    return logs.read(options);
  }

  onLog(
    deploymentId: string,
    listener: (line: RuntimeLogLine) => void,
  ): () => void {
    let listeners = this.logListeners.get(deploymentId);
    if (!listeners) {
      listeners = new Set();
      this.logListeners.set(deploymentId, listeners);
    }
    listeners.add(listener);
    return () => {
      listeners!.delete(listener);
      if (listeners!.size === 0) this.logListeners.delete(deploymentId);
    };
  }

  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    await this.batch.shutdown();
    // Queued behind any apply still in flight, so nothing starts afterwards.
    const ids = new Set([...this.deployments.keys(), ...this.queues.keys()]);
    await Promise.all(
      [...ids].map(id => this.enqueue(id, () => this.stopDeployment(id))),
    );
    await Promise.all(
      [...this.logs.values()].map(async logs => (await logs).flush()),
    );
  }

  private async stopDeployment(deploymentId: string): Promise<void> {
    const deployment = this.deployments.get(deploymentId);
    if (!deployment) return;
    await deployment.stop();
    this.deployments.delete(deploymentId);
    this.lastStates.delete(deploymentId);
    // Logs stay readable from the file; the in-memory tail is not needed now.
    await deployment.logs.release();
  }

  private enqueue<T>(deploymentId: string, task: () => Promise<T>): Promise<T> {
    return this.queues.run(deploymentId, task);
  }

  private logsFor(deploymentId: string): Promise<DeploymentLogs> {
    let logs = this.logs.get(deploymentId);
    if (!logs) {
      logs = DeploymentLogs.open(
        deploymentLogFile(this.options.logDir, deploymentId),
        {
          onLine: line => {
            const listeners = this.logListeners.get(deploymentId);
            if (!listeners) return;
            for (const listener of listeners) {
              try {
                listener(line);
              } catch (error) {
                this.options.logger.warn(
                  `log listener of deployment ${deploymentId} failed: ${error}`,
                );
              }
            }
          },
          onError: error =>
            this.options.logger.warn(
              `cannot write logs of deployment ${deploymentId}: ${error}`,
            ),
        },
      );
      // A failed open (e.g. unreadable logDir) is retried next time.
      logs.catch(() => this.logs.delete(deploymentId));
      this.logs.set(deploymentId, logs);
    }
    return logs;
  }

  private emitStatus(status: OnlineStatus) {
    const previous = this.lastStates.get(status.deploymentId);
    if (status.state !== previous) {
      this.lastStates.set(status.deploymentId, status.state);
      const message = `online deployment ${status.deploymentId} is ${
        status.state
      }${status.reason ? `: ${status.reason}` : ''}`;
      if (status.state === 'degraded') this.options.logger.warn(message);
      else this.options.logger.info(message);
    }
    for (const listener of this.statusListeners) {
      try {
        listener(status);
      } catch (error) {
        this.options.logger.warn(
          `status listener for deployment ${status.deploymentId} failed: ${error}`,
        );
      }
    }
  }
}
