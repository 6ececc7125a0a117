import {
  ModelPackage,
  OnlineDeploymentSpec,
  OnlineRuntimeState,
  OnlineStatus,
} from '@internal/plugin-ml-platform-node';
import { DeploymentLogs } from './DeploymentLogs';
import { ReplicaSupervisor, SupervisorSettings } from './ReplicaSupervisor';

/** An online spec with its build unpacked on this host. */
export type LocalOnlineSpec = OnlineDeploymentSpec & { package: ModelPackage };

/** What a replica runs; a different revision means a rolling update. */
function revisionOf(spec: LocalOnlineSpec): string {
  return JSON.stringify([spec.package.buildId, spec.modelName]);
}

function describeBuild(spec: LocalOnlineSpec): string {
  return `build ${spec.package.buildId} (version ${spec.package.buildVersion})`;
}

/**
 * One online deployment on this host: converges its replicas to the latest
 * spec. A new revision is rolled out by surge: all new replicas start next
 * to the old ones, and only when all of them are ready do the old ones leave
 * the ready set and get SIGTERM. While the new ones cannot get ready the old
 * ones keep serving.
 */
export class LocalDeployment {
  private replicas: ReplicaSupervisor[] = [];
  private endpoints: string[] = [];
  private nextReplica = 1;
  /** The revision (and build) serving once the last rollout finished. */
  private servedRevision: string;
  private servedBuildId: string;
  private converging = false;
  private convergeAgain = false;
  private stopping = false;
  private lastStatus?: string;

  constructor(
    private spec: LocalOnlineSpec,
    readonly logs: DeploymentLogs,
    private readonly settings: SupervisorSettings,
    private readonly onStatus: (status: OnlineStatus) => void,
  ) {
    this.servedRevision = revisionOf(spec);
    this.servedBuildId = spec.package.buildId;
    logs.append(
      'runtime',
      `deploying ${describeBuild(spec)} with ${spec.replicas} replica(s)`,
    );
  }

  get id(): string {
    return this.spec.deploymentId;
  }

  /** Base URLs of ready replicas (a fresh array each change; never mutated). */
  get readyEndpoints(): string[] {
    return this.endpoints;
  }

  /** Converges to `spec`; also the first call after construction. */
  apply(spec: LocalOnlineSpec): void {
    const previous = this.spec;
    this.spec = spec;
    if (revisionOf(spec) !== revisionOf(previous)) {
      this.logs.append(
        'runtime',
        `rolling out ${describeBuild(spec)} (was build ${
          previous.package.buildId
        })`,
      );
    }
    if (spec.replicas !== previous.replicas) {
      this.logs.append(
        'runtime',
        `scaling from ${previous.replicas} to ${spec.replicas} replica(s)`,
      );
    }
    this.converge();
  }

  /** Stops every replica (SIGTERM, SIGKILL after the grace period). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.logs.append('runtime', 'stopping deployment');
    await Promise.all(
      this.replicas.map(replica => this.retire(replica, 'deployment stopped')),
    );
    this.logs.append('runtime', 'deployment stopped');
  }

  status(): OnlineStatus {
    const desired = this.spec.replicas;
    const target = revisionOf(this.spec);
    const active = this.replicas.filter(r => !r.retiring);
    const ready = active.filter(r => r.state === 'ready');
    const readyTarget = ready.filter(r => r.revision === target).length;
    const rollout = this.servedRevision !== target;

    let state: OnlineRuntimeState;
    let reason: string | undefined;
    if (this.stopping || desired === 0) {
      state = 'stopped';
    } else if (!rollout && readyTarget >= desired) {
      state = 'ready';
    } else {
      // Target replicas first: their failure is what blocks the spec.
      const byTarget = [...active].sort(
        (a, b) => Number(b.revision === target) - Number(a.revision === target),
      );
      const looping = byTarget.find(r => r.state === 'failed');
      const crashed = byTarget.find(
        r => r.state === 'restarting' && r.everReady,
      );
      if (looping) {
        state = 'degraded';
        reason = `replica ${looping.id} crashed ${looping.recentFailures} times: ${looping.lastError}`;
        if (rollout && looping.revision === target && ready.length > 0) {
          reason += `; build ${this.servedBuildId} keeps serving`;
        }
      } else if (crashed) {
        state = 'degraded';
        reason = `replica ${crashed.id} ${
          crashed.lastError ?? 'exited'
        }; restarting (${ready.length} of ${desired} ready)`;
      } else {
        state = 'deploying';
      }
    }
    return {
      deploymentId: this.id,
      state,
      ...(reason ? { reason } : {}),
      desiredReplicas: this.stopping ? 0 : desired,
      readyReplicas: ready.length,
      buildId: this.servedBuildId,
      replicas: this.replicas.map(r => r.status()),
    };
  }

  /** Starts, retires and promotes replicas until they match the spec. */
  private converge(): void {
    if (this.converging) {
      this.convergeAgain = true;
      return;
    }
    this.converging = true;
    try {
      do {
        this.convergeAgain = false;
        this.convergeOnce();
      } while (this.convergeAgain);
    } finally {
      this.converging = false;
    }
    this.changed();
  }

  private convergeOnce(): void {
    if (this.stopping) return;
    const spec = this.spec;
    const target = revisionOf(spec);
    const desired = spec.replicas;
    const active = () => this.replicas.filter(r => !r.retiring);

    if (desired === 0) {
      for (const replica of active()) this.retire(replica, 'scaled to zero');
      this.promote(spec, false);
      return;
    }
    // Nothing left of the served build: no old replicas to keep serving.
    if (!active().some(r => r.revision === this.servedRevision)) {
      this.promote(spec, false);
    }
    // A rollout overtaken by a newer spec: its replicas serve no purpose.
    for (const replica of active()) {
      if (
        replica.revision !== target &&
        replica.revision !== this.servedRevision
      ) {
        this.retire(replica, 'superseded by a newer build');
      }
    }

    const current = active().filter(r => r.revision === target);
    if (current.length > desired) {
      // Prefer removing replicas that do not serve yet, then the newest.
      const extra = [...current]
        .sort(
          (a, b) =>
            Number(a.state === 'ready') - Number(b.state === 'ready') ||
            this.replicas.indexOf(b) - this.replicas.indexOf(a),
        )
        .slice(0, current.length - desired);
      for (const replica of extra) this.retire(replica, 'scaled down');
    }
    for (let i = current.length; i < desired; i++) this.addReplica(spec);

    if (this.servedRevision !== target) {
      const ready = active().filter(
        r => r.revision === target && r.state === 'ready',
      );
      if (ready.length >= desired) {
        for (const replica of active()) {
          if (replica.revision !== target) this.retire(replica, 'rolled out');
        }
        this.promote(spec, true);
      }
    }
  }

  private promote(spec: LocalOnlineSpec, rolledOut: boolean) {
    const revision = revisionOf(spec);
    if (this.servedRevision === revision) return;
    this.servedRevision = revision;
    this.servedBuildId = spec.package.buildId;
    if (rolledOut) {
      this.logs.append('runtime', `rolled out build ${spec.package.buildId}`);
    }
  }

  private addReplica(spec: LocalOnlineSpec) {
    const id = `r${this.nextReplica++}`;
    const pkg = spec.package;
    const replica = new ReplicaSupervisor({
      id,
      buildId: pkg.buildId,
      revision: revisionOf(spec),
      server: {
        python: pkg.python,
        modelDir: pkg.modelDir,
        entrypoint: pkg.entrypoint,
        schemaFile: pkg.schemaFile,
        name: spec.modelName,
        version: String(pkg.buildVersion),
        host: '127.0.0.1',
        port: 0,
      },
      settings: this.settings,
      log: (stream, line) => this.logs.append(stream, line, id),
      onChange: () => this.onReplicaChange(),
    });
    this.replicas.push(replica);
    this.logs.append(
      'runtime',
      `starting replica ${id} (build ${pkg.buildId})`,
    );
    replica.start();
  }

  /** Out of the ready set now; forgotten once its process is gone. */
  private retire(replica: ReplicaSupervisor, why: string): Promise<void> {
    if (!replica.retiring) {
      this.logs.append('runtime', `stopping replica ${replica.id}: ${why}`);
    }
    return replica.stop(this.settings.stopGraceMs).then(() => {
      const index = this.replicas.indexOf(replica);
      if (index >= 0) this.replicas.splice(index, 1);
      this.changed();
    });
  }

  private onReplicaChange() {
    // Drop a dead replica from the ready set synchronously, before anything else.
    this.refreshEndpoints();
    this.converge();
  }

  private refreshEndpoints() {
    const urls = this.replicas
      .filter(r => r.state === 'ready' && r.url)
      .map(r => r.url!);
    if (
      urls.length !== this.endpoints.length ||
      urls.some((url, i) => url !== this.endpoints[i])
    ) {
      this.endpoints = urls;
    }
  }

  private changed() {
    this.refreshEndpoints();
    const status = this.status();
    const json = JSON.stringify(status);
    if (json === this.lastStatus) return;
    this.lastStatus = json;
    this.onStatus(status);
  }
}
