import {
  BatchExecution,
  BatchSettings,
  BuildStatus,
  BuildStep,
  BuildTrigger,
  DeploymentStatus,
  DeploymentType,
  ExecutionInput,
  ExecutionOutput,
  ExecutionStatus,
  ModelBuild,
  ModelDeployment,
  ModelPlatformState,
} from '@internal/plugin-ml-platform-common';

/** A model the platform has registered, with where its code lives. */
export interface ModelRecord {
  entityRef: string;
  gitUrl?: string;
  gitPath?: string;
  defaultBranch?: string;
  manifestPath?: string;
  registeredAt: string;
}

export interface NewBuild {
  modelRef: string;
  trigger: BuildTrigger;
  triggerSource?: string;
  requestedBy?: string;
  branch?: string;
  commitSha?: string;
  steps: BuildStep[];
}

export type BuildUpdate = Partial<
  Pick<
    ModelBuild,
    | 'status'
    | 'branch'
    | 'commitSha'
    | 'commitMessage'
    | 'commitAuthor'
    | 'failureReason'
    | 'steps'
    | 'artifactUri'
    | 'artifactDigest'
    | 'startedAt'
    | 'finishedAt'
  >
> & { manifest?: unknown };

export interface BuildLogLine {
  id: number;
  step?: string;
  line: string;
  createdAt: string;
}

export interface NewDeployment {
  modelRef: string;
  buildId: string;
  type: DeploymentType;
  replicas: number;
  minReplicas: number;
  maxReplicas: number;
  batch?: BatchSettings;
  createdBy?: string;
}

export type DeploymentUpdate = Partial<
  Pick<
    ModelDeployment,
    | 'buildId'
    | 'status'
    | 'reason'
    | 'replicas'
    | 'minReplicas'
    | 'maxReplicas'
    | 'readyReplicas'
    | 'batch'
    | 'replicaStatus'
  >
> & {
  /** Labels the entity asks the deployment's workloads to carry. */
  labels?: Record<string, string>;
  /** null wakes a scaled-to-zero deployment. */
  scaledToZeroAt?: string | null;
  lastScheduledAt?: string;
};

/** A deployment with what several backend instances share about it. */
export interface DeploymentRecord extends ModelDeployment {
  /** The backend instance driving the runtime for it, while claimed. */
  owner?: string;
  ownerHeartbeatAt?: string;
  /** The last invocation on any instance. */
  lastRequestAt?: string;
  labels?: Record<string, string>;
}

export interface NewExecution {
  modelRef: string;
  deploymentId?: string;
  buildId: string;
  input: ExecutionInput;
  output: ExecutionOutput;
  chunkSize: number;
  parallelism: number;
  maxRetries: number;
  trigger?: 'api' | 'schedule';
  createdBy?: string;
}

export type ChunkStatus =
  | 'pending'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'cancelled';

export interface ChunkRecord {
  executionId: string;
  seq: number;
  rowStart: number;
  rowEnd: number;
  status: ChunkStatus;
  attempts: number;
  error?: string;
  startedAt?: string;
  finishedAt?: string;
}

/** An execution with the stored input and output descriptions. */
export interface ExecutionRecord extends BatchExecution {
  input: ExecutionInput;
  output: ExecutionOutput;
}

/**
 * Everything the platform persists. State lives here, never only in memory,
 * so a backend restart loses nothing.
 */
export interface MlPlatformStore {
  upsertModel(model: Omit<ModelRecord, 'registeredAt'>): Promise<ModelRecord>;
  getModel(entityRef: string): Promise<ModelRecord | undefined>;
  listModels(): Promise<ModelRecord[]>;
  /** Platform state for each ref; refs the platform never saw are absent. */
  getModelStates(refs: string[]): Promise<Map<string, ModelPlatformState>>;

  /** Creates a queued build with the model's next version number. */
  createBuild(build: NewBuild): Promise<ModelBuild>;
  updateBuild(id: string, update: BuildUpdate): Promise<ModelBuild>;
  getBuild(id: string): Promise<ModelBuild | undefined>;
  /** The validated mlmodel.yaml of a build, once its validate step ran. */
  getBuildManifest(id: string): Promise<unknown | undefined>;
  listBuilds(options: {
    modelRef?: string;
    status?: BuildStatus[];
    limit?: number;
    offset?: number;
    order?: 'newest' | 'oldest';
  }): Promise<{ items: ModelBuild[]; totalCount: number }>;
  /** Every build of one commit of a model, newest first. */
  listBuildsOfCommit(
    modelRef: string,
    commitSha: string,
  ): Promise<ModelBuild[]>;
  /**
   * Moves the oldest queued build to running, owned by `workerId`; safe when
   * several backend instances claim at once.
   */
  claimNextBuild(workerId: string): Promise<ModelBuild | undefined>;
  /** Marks running builds as alive. */
  heartbeatBuilds(ids: string[]): Promise<void>;
  /** Running builds whose heartbeat is older than `before`: their runner died. */
  listStaleBuilds(before: Date): Promise<ModelBuild[]>;
  /**
   * Cancels a queued build at once; for a running one, records the request
   * for its runner. Says which happened.
   */
  cancelBuild(id: string): Promise<'cancelled' | 'requested' | 'finished'>;
  /** Those of `ids` whose cancellation was requested. */
  listCancelRequested(ids: string[]): Promise<string[]>;
  appendBuildLog(
    buildId: string,
    lines: { step?: string; line: string }[],
  ): Promise<void>;
  /** Log lines with an id greater than `afterId`, oldest first. */
  readBuildLog(
    buildId: string,
    options?: { afterId?: number; limit?: number },
  ): Promise<BuildLogLine[]>;

  createDeployment(deployment: NewDeployment): Promise<ModelDeployment>;
  updateDeployment(
    id: string,
    update: DeploymentUpdate,
  ): Promise<ModelDeployment>;
  /** Marks it deleted; it disappears from lists but stays for history. */
  deleteDeployment(id: string): Promise<void>;
  getDeployment(id: string): Promise<ModelDeployment | undefined>;
  listDeployments(options: {
    modelRef?: string;
    type?: DeploymentType;
    status?: DeploymentStatus[];
  }): Promise<ModelDeployment[]>;
  /** Live deployments with their claims, idle times and labels. */
  listDeploymentRecords(options: {
    type?: DeploymentType;
  }): Promise<DeploymentRecord[]>;
  getDeploymentRecord(id: string): Promise<DeploymentRecord | undefined>;
  /**
   * Makes `owner` the instance that drives a deployment: when nobody does,
   * it already does, or the owner's heartbeat is older than `staleBefore`.
   * True when it owns it now; safe when instances claim at once.
   */
  claimDeployment(
    id: string,
    owner: string,
    staleBefore: Date,
  ): Promise<boolean>;
  /** Keeps `owner`'s claims on these deployments alive. */
  heartbeatDeployments(owner: string, ids: string[]): Promise<void>;
  /** Gives up `owner`'s claim on one deployment, or on all of them. */
  releaseDeployments(owner: string, id?: string): Promise<void>;
  /** Records invocations (deployment id to time); never moves a time back. */
  noteDeploymentRequests(requests: Map<string, Date>): Promise<void>;
  /**
   * Records that a batch schedule started an execution at `at`, if nobody
   * recorded a run since `previous`: true for exactly one caller.
   */
  claimScheduledRun(
    id: string,
    previous: string | undefined,
    at: string,
  ): Promise<boolean>;

  /** A secret shared by every instance, made on first use. */
  getSigningKey(id: string): Promise<string>;

  createExecution(execution: NewExecution): Promise<ExecutionRecord>;
  updateExecution(
    id: string,
    update: Partial<
      Pick<
        ExecutionRecord,
        | 'status'
        | 'chunksTotal'
        | 'rowsTotal'
        | 'error'
        | 'resultUri'
        | 'startedAt'
        | 'finishedAt'
      >
    >,
  ): Promise<ExecutionRecord>;
  /**
   * Makes `workerId` run an execution: one nobody claimed, or (with
   * `staleBefore`) one whose runner stopped beating. True when it won.
   */
  claimExecution(
    id: string,
    workerId: string,
    staleBefore?: Date,
  ): Promise<boolean>;
  heartbeatExecutions(ids: string[]): Promise<void>;
  /** Unfinished executions whose runner stopped beating (or never started). */
  listStaleExecutions(before: Date): Promise<ExecutionRecord[]>;
  requestExecutionCancel(id: string): Promise<void>;
  listCancelRequestedExecutions(ids: string[]): Promise<string[]>;
  /** The execution with chunk and row counts summed from its chunks. */
  getExecution(id: string): Promise<ExecutionRecord | undefined>;
  listExecutions(options: {
    modelRef?: string;
    status?: ExecutionStatus[];
    limit?: number;
  }): Promise<ExecutionRecord[]>;
  /** Records chunks; those already stored are left as they are. */
  addChunks(chunks: Omit<ChunkRecord, 'status' | 'attempts'>[]): Promise<void>;
  updateChunk(
    executionId: string,
    seq: number,
    update: Partial<
      Pick<
        ChunkRecord,
        'status' | 'attempts' | 'error' | 'startedAt' | 'finishedAt'
      >
    >,
  ): Promise<void>;
  listChunks(
    executionId: string,
    options?: { status?: ChunkStatus[] },
  ): Promise<ChunkRecord[]>;
}
