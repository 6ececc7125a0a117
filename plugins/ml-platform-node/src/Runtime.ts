/**
 * The seam between "what should run" (deployments and executions in the
 * database) and "where it runs". The `local` runtime (supervised processes on
 * the backend host) is built in; others, such as `kubernetes`, come from
 * modules through {@link mlPlatformRuntimeExtensionPoint}. Nothing outside a
 * runtime knows which one is active.
 */

/**
 * A succeeded build as every runtime gets it: where its artifact is and how
 * to run the model in it. A runtime on another host fetches the artifact
 * through {@link ArtifactLinks} (the platform's `GET artifacts/{digest}`),
 * never from a path on the backend's disk.
 *
 * @public
 */
export interface ModelBuildArtifact {
  buildId: string;
  modelRef: string;
  buildVersion: number;
  /** `module:Class` from the manifest. */
  entrypoint: string;
  /** The manifest's `spec.schema` (inputs and outputs), when it has one. */
  schema?: unknown;
  /**
   * The manifest's `spec.interface`: what the model's `predict` receives
   * (records, a pandas DataFrame or a 2-D numpy array).
   */
  interface?: 'records' | 'dataframe' | 'ndarray';
  /**
   * The manifest's `spec.python`: the vetted base interpreter its venv is
   * made from on this host, when it names one (checked against
   * `mlPlatform.builds.allowedPythons`); a runtime with an image of its own
   * runs the image's interpreter.
   */
  basePython?: string;
  /** The requirements file inside the artifact, when it lists anything to install. */
  requirements?: string;
  /** The stored artifact (a tarball of the model directory). */
  artifactUri: string;
  /** `sha256:<hex>` of the artifact. */
  artifactDigest: string;
}

/** A build unpacked on this host with its dependencies installed. @public */
export interface ModelPackage extends ModelBuildArtifact {
  /** The model's directory (where mlmodel.yaml and the entrypoint live). */
  modelDir: string;
  /** Interpreter with the model's requirements installed (the build's venv). */
  python: string;
  /** JSON file holding the manifest's `spec.schema`, when it has one. */
  schemaFile?: string;
}

/**
 * Unpacks builds on this host (the build's own workspace when it is still
 * here, otherwise the artifact, digest checked, with a fresh virtualenv).
 * For runtimes that run models as local processes.
 *
 * @public
 */
export interface ModelPackages {
  get(build: ModelBuildArtifact): Promise<ModelPackage>;
}

/** What an online deployment should look like. @public */
export interface OnlineDeploymentSpec {
  deploymentId: string;
  /** Served as `/v2/models/{modelName}`. */
  modelName: string;
  /** The build the replicas run. */
  build: ModelBuildArtifact;
  /** 0 stops every replica (scale to zero). */
  replicas: number;
  /**
   * Bounds for a runtime that autoscales (a HorizontalPodAutoscaler when
   * they differ); `replicas` is where it starts.
   */
  minReplicas?: number;
  maxReplicas?: number;
  /**
   * Labels the model's entity asks its workloads to carry (from its
   * `backstage.io/kubernetes-label-selector`), so tools that look for them,
   * like Backstage's Kubernetes plugin, find the replicas.
   */
  labels?: Record<string, string>;
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
  /**
   * Base URL while the replica listens, e.g. `http://127.0.0.1:41234`: an
   * address the gateway of every backend instance can reach.
   */
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

/** Workers for one batch execution (the local runtime's pool). @public */
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
  inputRange?: BatchInputRange;
}

/** CSV records at a byte range of an input file. @public */
export interface BatchInputRange {
  offset: number;
  length: number;
  /** The file's header record. */
  header: string;
  /** The id of the first record in the range. */
  firstRowId: number;
  /** The file line the range starts on (for messages). */
  firstLine: number;
}

/** @public */
export type BatchChunkOutcome =
  | { ok: true; rows: number; seconds: number }
  | {
      ok: false;
      /** `bad_input` will fail again; the others may pass on a retry. */
      kind: BatchFailureKind;
      error: string;
    };

/** Why a chunk failed. @public */
export type BatchFailureKind =
  | 'bad_input'
  | 'model_error'
  | 'io_error'
  | 'worker_crashed';

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

/** A planned batch execution, as a {@link BatchRuntime} runs it. @public */
export interface BatchExecutionSpec {
  executionId: string;
  /** The model's name (for names and labels of what the runtime creates). */
  modelName: string;
  build: ModelBuildArtifact;
  /** How many chunks run at once. */
  parallelism: number;
  /** Retries of a failed chunk, after its first attempt. */
  maxRetries: number;
  /** First retry delay, doubling per attempt, where the runtime chooses it. */
  retryBackoffMs: number;
}

/**
 * One chunk of a planned execution: a URI to read its rows from and one to
 * write its predictions to (JSON lines). The planner writes chunks on the
 * backend's host (`file:` URIs); a runtime whose workers run elsewhere moves
 * them through the artifact store.
 *
 * @public
 */
export interface BatchChunkSpec {
  seq: number;
  /** Rows the planner put in it; a worker that reads another number fails it. */
  rows: number;
  input: {
    uri: string;
    format: 'csv' | 'jsonl';
    /** Only these bytes of `uri` hold the chunk (CSV). */
    range?: BatchInputRange;
    /** The column holding each row's id (default `__row_id`). */
    idColumn?: string;
  };
  output: {
    uri: string;
    /** Object predictions as the line's columns (the final JSON lines format). */
    columns?: boolean;
  };
  /** Attempts made before (a resumed execution counts on from them). */
  attempts: number;
}

/** What happened to a chunk, as a {@link BatchRuntime} reports it. @public */
export type BatchChunkEvent =
  | { type: 'started'; seq: number; attempt: number }
  | {
      type: 'succeeded';
      seq: number;
      attempt: number;
      rows: number;
      seconds: number;
    }
  | {
      type: 'failed';
      seq: number;
      attempt: number;
      kind: BatchFailureKind;
      error: string;
      /** False when the chunk has no retry left (the execution fails). */
      willRetry: boolean;
    };

/** @public */
export interface BatchRunOptions {
  /**
   * Receives every attempt's start and end, in order per chunk, and is
   * awaited; when it throws, the run stops and rejects with its error.
   */
  onEvent(event: BatchChunkEvent): Promise<void>;
  /** Worker output, for the backend's log. */
  onLog?(line: string): void;
  /**
   * Aborted when the execution stops here: cancelled (then {@link
   * BatchRuntime.cancel} follows) or the backend is shutting down, when
   * work that runs elsewhere may go on and the next run picks it up.
   */
  signal: AbortSignal;
}

/**
 * Runs planned batch executions: the local runtime on a pool of worker
 * processes, a cluster runtime as an Indexed Job. Chunk state lives in the
 * platform's database; the runtime only reports it.
 *
 * @public
 */
export interface BatchRuntime {
  /**
   * Runs the chunks the plan yields (a pool starts them as they come; a Job
   * reads the whole plan first) and retries failed ones up to
   * `maxRetries`. Resolves with `ok: false` once a chunk failed for good (the
   * rest are stopped), `ok: true` when every chunk succeeded; rejects when
   * the execution cannot run at all (its workers cannot start).
   */
  run(
    spec: BatchExecutionSpec,
    chunks: AsyncIterable<BatchChunkSpec>,
    options: BatchRunOptions,
  ): Promise<{ ok: boolean }>;

  /** Stops an execution's work wherever it runs (cancel). */
  cancel(executionId: string): Promise<void>;
}

/** @public */
export interface Runtime {
  /** The name `mlPlatform.runtime` selects this runtime by. */
  readonly type: string;

  /**
   * Whose workloads it reports and changes. `instance` (the default): this
   * backend instance's own (processes on its host), so with several
   * instances only the one driving a deployment runs it and the others stop
   * theirs. `shared`: every instance sees and changes the same workloads (a
   * cluster), so none stops what another drives.
   */
  readonly scope?: 'instance' | 'shared';

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

  /** Runs batch executions where this runtime runs models. */
  readonly batch: BatchRuntime;

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
