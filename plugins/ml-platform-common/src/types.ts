/**
 * The JSON shapes of the ML platform HTTP API, shared by the backend, the
 * frontend, the CLI and the scaffolder actions.
 */
import type { MlModelManifest } from './manifest/manifestSchema';

/** @public */
export type BuildStatus =
  | 'queued'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'cancelled';

/** What started a build. @public */
export type BuildTrigger = 'api' | 'push' | 'poll' | 'scaffolder';

/** @public */
export type BuildStepStatus =
  | 'pending'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'cancelled';

/** @public */
export interface BuildStep {
  name: string;
  status: BuildStepStatus;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  message?: string;
}

/** An immutable, versioned package of a model's code at one commit. @public */
export interface ModelBuild {
  id: string;
  modelRef: string;
  version: number;
  status: BuildStatus;
  trigger: BuildTrigger;
  /** Where the trigger came from, e.g. the event topic or the poller. */
  triggerSource?: string;
  /** Entity ref of the user or service that asked for the build. */
  requestedBy?: string;
  branch?: string;
  commitSha?: string;
  commitMessage?: string;
  commitAuthor?: string;
  failureReason?: string;
  steps: BuildStep[];
  artifactUri?: string;
  artifactDigest?: string;
  /** The validated mlmodel.yaml, once the validate step ran. */
  manifest?: MlModelManifest;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
}

/** @public */
export type DeploymentType = 'online' | 'batch';

/** @public */
export type DeploymentStatus =
  | 'pending'
  | 'deploying'
  | 'ready'
  | 'degraded'
  | 'failed'
  | 'stopped';

/** @public */
export interface BatchSettings {
  chunkSize: number;
  parallelism: number;
  maxRetries: number;
  /** Cron expression; executions start on this schedule when set. */
  schedule?: string;
  /** What scheduled executions read and write. */
  input?: ExecutionInput;
  output?: ExecutionOutput;
}

/** The runtime's view of one replica of an online deployment. @public */
export interface DeploymentReplica {
  id: string;
  buildId: string;
  state: 'starting' | 'ready' | 'restarting' | 'failed' | 'stopping';
  url?: string;
  pid?: number;
  restarts: number;
  lastError?: string;
  startedAt: string;
}

/** A build running (online) or ready to run (batch). @public */
export interface ModelDeployment {
  id: string;
  modelRef: string;
  buildId: string;
  type: DeploymentType;
  status: DeploymentStatus;
  reason?: string;
  replicas: number;
  minReplicas: number;
  maxReplicas: number;
  readyReplicas: number;
  batch?: BatchSettings;
  /** Set while an idle deployment runs no replicas (scale to zero). */
  scaledToZeroAt?: string;
  /** When the batch schedule last started an execution. */
  lastScheduledAt?: string;
  /** What the runtime says about each replica (online deployments). */
  replicaStatus?: DeploymentReplica[];
  createdBy?: string;
  createdAt: string;
  updatedAt: string;
}

/** @public */
export type ExecutionStatus =
  | 'pending'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'cancelled';

/** Where a batch execution reads its rows. @public */
export type ExecutionInput =
  | { type: 'upload'; uploadId: string; format?: DataFormat }
  | { type: 'path'; path: string; format?: DataFormat }
  | { type: 'url'; url: string; format?: DataFormat }
  | { type: 'sql'; connection: string; query: string };

/** Where a batch execution writes its predictions. @public */
export type ExecutionOutput =
  | { type: 'file'; format: DataFormat }
  | { type: 'table'; connection: string; table: string };

/** @public */
export type DataFormat = 'csv' | 'jsonl' | 'parquet';

/** One slice of an execution's input. @public */
export interface ExecutionChunk {
  seq: number;
  rowStart: number;
  /** Exclusive. */
  rowEnd: number;
  status: 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  attempts: number;
  error?: string;
  startedAt?: string;
  finishedAt?: string;
}

/** An uploaded input file, to start executions with. @public */
export interface UploadedInput {
  uploadId: string;
  filename: string;
  size: number;
  format: DataFormat;
}

/** One triggered run of a batch deployment. @public */
export interface BatchExecution {
  id: string;
  modelRef: string;
  deploymentId?: string;
  buildId: string;
  status: ExecutionStatus;
  chunkSize: number;
  parallelism: number;
  maxRetries: number;
  chunksTotal?: number;
  chunksDone: number;
  chunksFailed: number;
  rowsTotal?: number;
  rowsDone: number;
  rowsFailed: number;
  /** Rows per second since it started, once rows are done. */
  rowsPerSecond?: number;
  /** Seconds left at the current rate, once the total is known. */
  etaSeconds?: number;
  input?: ExecutionInput;
  output?: ExecutionOutput;
  /** Set for file outputs once the result is assembled. */
  resultUri?: string;
  /** What triggered it: a person, a service, or the schedule. */
  trigger?: 'api' | 'schedule';
  error?: string;
  createdBy?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
}

/** What the platform knows about a model, beyond its catalog entry. @public */
export interface ModelPlatformState {
  /** True once the platform has seen the model (a build or a registration). */
  registered: boolean;
  latestBuild?: ModelBuild;
  liveDeployment?: ModelDeployment;
  runningExecutions: number;
}

/** A catalog `ml-model` component joined with its platform state. @public */
export interface ModelSummary {
  /** Entity ref, e.g. `component:default/churn`. */
  ref: string;
  namespace: string;
  name: string;
  title?: string;
  description?: string;
  owner?: string;
  system?: string;
  lifecycle?: string;
  tags: string[];
  platform: ModelPlatformState;
}

/** One permission decision, with the policy's reason when not allowed. @public */
export interface ModelDecision {
  allowed: boolean;
  reason?: string;
}

/**
 * Whether the caller may act on a model, with the reason when not: one key
 * per action (`build` is `ml-platform.build.create`, `deploy` is
 * `ml-platform.deployment.create`, `execute` is `ml-platform.execution.create`).
 *
 * @public
 */
export interface ModelPermissions {
  build: ModelDecision;
  deploy: ModelDecision;
  execute: ModelDecision;
  register: ModelDecision;
  cancelBuild: ModelDecision;
  updateDeployment: ModelDecision;
  deleteDeployment: ModelDecision;
  cancelExecution: ModelDecision;
  updateAlerts: ModelDecision;
  invoke: ModelDecision;
  read: ModelDecision;
}

/** What an activity entry records. @public */
export type ModelActivityAction =
  | 'model.register'
  | 'build.create'
  | 'build.cancel'
  | 'deployment.create'
  | 'deployment.rollout'
  | 'deployment.scale'
  | 'deployment.delete'
  | 'execution.create'
  | 'execution.cancel'
  | 'alert.update'
  | 'subscription.create'
  | 'subscription.update'
  | 'subscription.delete'
  | 'subscription.retry';

/**
 * How a change ended: done, refused (permission or quota), or failed (bad
 * input, a conflict, an error).
 *
 * @public
 */
export type ModelActivityOutcome = 'succeeded' | 'refused' | 'failed';

/** One change of a model, or an attempt at one: who did what, when. @public */
export interface ModelActivity {
  id: string;
  modelRef: string;
  action: ModelActivityAction;
  /** `user:default/ada`, `service:<subject>`, or the platform for automatic changes. */
  actor: string;
  outcome: ModelActivityOutcome;
  /** What happened, or why not. */
  message: string;
  /** The build, deployment or execution it concerns. */
  subjectId?: string;
  /** The request's id (its `X-Request-Id`), to find it in the audit log. */
  requestId?: string;
  createdAt: string;
}

/** A page of log lines. @public */
export interface BuildLogPage {
  items: { id: number; step?: string; line: string; createdAt: string }[];
  lastId: number;
  finished: boolean;
}

/** @public */
export interface DeploymentLogPage {
  items: {
    seq: number;
    time: string;
    replica?: string;
    stream: 'stdout' | 'stderr' | 'runtime';
    line: string;
  }[];
  lastSeq: number;
}

/** @public */
export interface ListResponse<T> {
  items: T[];
}
