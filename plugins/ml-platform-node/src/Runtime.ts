/**
 * The seam between "what should run" (deployments and executions in the
 * database) and "where it runs". The `local` runtime (supervised processes on
 * the backend host) is built in; others, such as `kubernetes`, come from
 * modules through {@link mlPlatformRuntimeExtensionPoint}. Nothing outside a
 * runtime knows which one is active.
 */

/** A build unpacked on this host with its dependencies installed. @public */
export interface ModelPackage {
  buildId: string;
  modelRef: string;
  buildVersion: number;
  /** The model's directory (where mlmodel.yaml and the entrypoint live). */
  modelDir: string;
  /** Interpreter with the model's requirements installed (the build's venv). */
  python: string;
  /** `module:Class` from the manifest. */
  entrypoint: string;
  /** JSON file holding the manifest's `spec.schema`, when it has one. */
  schemaFile?: string;
  /** The stored artifact, for runtimes that run the model elsewhere. */
  artifactUri: string;
  artifactDigest: string;
}

/** What an online deployment should look like. @public */
export interface OnlineDeploymentSpec {
  deploymentId: string;
  /** Served as `/v2/models/{modelName}`. */
  modelName: string;
  package: ModelPackage;
  /** 0 stops every replica (scale to zero). */
  replicas: number;
}

/** @public */
export type ReplicaState =
  | 'starting'
  | 'ready'
  | 'restarting'
  | 'failed'
  | 'stopping';

/** @public */
export interface ReplicaStatus {
  id: string;
  buildId: string;
  state: ReplicaState;
  /** Base URL while the replica listens, e.g. `http://127.0.0.1:41234`. */
  url?: string;
  pid?: number;
  restarts: number;
  lastError?: string;
  startedAt: string;
}

/** @public */
export type OnlineRuntimeState = 'deploying' | 'ready' | 'degraded' | 'stopped';

/** How a deployment runs right now. @public */
export interface OnlineStatus {
  deploymentId: string;
  state: OnlineRuntimeState;
  /** One sentence, e.g. "replica r2 crashed 5 times: ModuleNotFoundError: ...". */
  reason?: string;
  desiredReplicas: number;
  readyReplicas: number;
  /** The build the ready replicas serve once a rollout finished. */
  buildId: string;
  replicas: ReplicaStatus[];
}

/** A line of a deployment's logs. @public */
export interface RuntimeLogLine {
  /** Increasing per deployment; `afterSeq` continues from it. */
  seq: number;
  time: string;
  replica?: string;
  stream: 'stdout' | 'stderr' | 'runtime';
  line: string;
}

/** Workers for one batch execution. @public */
export interface BatchWorkersSpec {
  executionId: string;
  package: ModelPackage;
  /** How many chunks run at once. */
  workers: number;
}

/** One chunk for a worker: a file of rows in, a file of predictions out. @public */
export interface BatchChunkTask {
  seq: number;
  inputPath: string;
  outputPath: string;
  format: 'csv' | 'jsonl';
  /** The column holding each row's id (default `__row_id`). */
  idColumn?: string;
  /**
   * Write object predictions as the line's columns (`{"row_id", ...fields}`)
   * instead of `{"row_id", "prediction"}`: the final JSON lines format.
   */
  columns?: boolean;
  /**
   * The chunk is the CSV records at bytes [offset, offset + length) of
   * `inputPath` (the input file itself), parsed under `header`; row ids count
   * from `firstRowId`, `firstLine` is the file line the range starts on.
   */
  inputRange?: {
    offset: number;
    length: number;
    header: string;
    firstRowId: number;
    firstLine: number;
  };
}

/** @public */
export type BatchChunkOutcome =
  | { ok: true; rows: number; seconds: number }
  | {
      ok: false;
      /** `bad_input` will fail again; the others may pass on a retry. */
      kind: 'bad_input' | 'model_error' | 'io_error' | 'worker_crashed';
      error: string;
    };

/** Workers started for one execution and gone after it. @public */
export interface BatchWorkerPool {
  /** Runs a chunk on the next free worker. */
  run(task: BatchChunkTask): Promise<BatchChunkOutcome>;
  /** Stops every worker; chunks still running end as `worker_crashed`. */
  close(): Promise<void>;
}

/** Resources a replica's process uses, as the runtime measured them. @public */
export interface ReplicaUsage {
  replicaId: string;
  /** CPU time (user + system) since the process started. */
  cpuSeconds: number;
  /** Resident memory. */
  memoryBytes: number;
}

/**
 * Where Prometheus scrapes a replica's own metrics (the model server's
 * `/metrics`), for `GET runtime/scrape-targets`. @public
 */
export interface ScrapeTarget {
  replicaId: string;
  buildId: string;
  /** `host:port`. */
  address: string;
  /** @defaultValue `/metrics` */
  metricsPath?: string;
  /** @defaultValue `http` */
  scheme?: 'http' | 'https';
}

/** @public */
export interface Runtime {
  /** The name `mlPlatform.runtime` selects this runtime by. */
  readonly type: string;

  /**
   * Brings an online deployment to the spec: starts it, scales it, or rolls
   * it to another build with new replicas ready before old ones stop.
   * Idempotent; resolves once the change is under way, not when it is ready.
   */
  applyOnline(spec: OnlineDeploymentSpec): Promise<void>;

  /** Stops every replica of a deployment and forgets it. */
  stopOnline(deploymentId: string): Promise<void>;

  /** The deployment's status, or undefined when this runtime does not run it. */
  getOnlineStatus(deploymentId: string): OnlineStatus | undefined;

  /** Ids of the deployments this runtime runs. */
  listOnline(): string[];

  /**
   * Base URLs of ready replicas; called on every request by the gateway, so
   * it must be cheap.
   */
  readyEndpoints(deploymentId: string): string[];

  /** Calls the listener whenever a deployment's status changes. */
  onStatusChange(listener: (status: OnlineStatus) => void): () => void;

  /** The last lines of a deployment's logs, or those after `afterSeq`. */
  readLogs(
    deploymentId: string,
    options?: { tail?: number; afterSeq?: number },
  ): Promise<RuntimeLogLine[]>;

  /** New log lines as they are written. */
  onLog(
    deploymentId: string,
    listener: (line: RuntimeLogLine) => void,
  ): () => void;

  /**
   * Starts the workers of a batch execution; resolves once they have loaded
   * the model, or rejects with the reason they could not.
   */
  startBatchWorkers(
    spec: BatchWorkersSpec,
    options?: { onLog?: (line: string) => void },
  ): Promise<BatchWorkerPool>;

  /** Stops everything this runtime started (backend shutdown). */
  shutdown(): Promise<void>;

  /**
   * CPU and memory of a deployment's replicas, for monitoring. Optional:
   * runtimes that cannot measure them leave it out.
   */
  getReplicaUsage?(deploymentId: string): Promise<ReplicaUsage[]>;

  /**
   * Where Prometheus can scrape a deployment's replicas. Optional: without
   * it, the URLs of ready replicas are the targets, at `/metrics`.
   */
  getScrapeTargets?(deploymentId: string): ScrapeTarget[];
}
