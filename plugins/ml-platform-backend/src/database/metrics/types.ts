/**
 * Rows of the embedded metrics store. Every row covers one bucket (a minute,
 * or an hour) of one series: a model's deployment and build, plus what
 * distinguishes the family (route and caller kind, an output's bin, a KPI,
 * a backend instance). Values are counts and sums that add up across
 * flushes, instances and buckets; every count is in a minute row (until
 * downsampling drops it) and in its hour row.
 */

/** Seconds a raw row covers. */
export const MINUTE = 60;
/** Seconds an hour row covers. */
export const HOUR = 3600;

/** Which series a row belongs to: the model, deployment and build it measured. */
export interface SeriesKey {
  /** Seconds the row covers: 60 (a minute) or 3600 (an hour). */
  resolution: number;
  /** Epoch milliseconds, a multiple of the resolution. */
  bucketStart: number;
  modelRef: string;
  /** '' when there is none (a batch execution of a build). */
  deploymentId: string;
  buildId: string;
  version: number;
}

/** What the gateway counted of calls. */
export interface CallCounts {
  requests: number;
  callerErrors: number;
  modelErrors: number;
  unavailable: number;
  timeouts: number;
  /** Rows of successful calls. */
  rows: number;
  /** Seconds. */
  latencySum: number;
  inFlightMax: number;
  /** Calls per LATENCY_BUCKETS bucket, not cumulative; the last is +Inf. */
  latencyBuckets: number[];
}

/** Online calls of one route and caller kind. */
export interface CallRow extends SeriesKey, CallCounts {
  route: string;
  callerKind: string;
}

/** How many predictions of one output fell in one bin. */
export interface PredictionRow extends SeriesKey {
  output: string;
  /** `numeric`: `bin` is a bucket's upper bound (`+Inf` last); `class`: the value. */
  kind: 'numeric' | 'class';
  bin: string;
  count: number;
  /** Sum of the numeric values in the bin (0 for classes), for means. */
  valueSum: number;
}

export interface KpiRow extends SeriesKey {
  kpi: string;
  sum: number;
  count: number;
}

/** What the batch runner counted of chunk attempts. */
export interface BatchCounts {
  chunks: number;
  badInput: number;
  modelErrors: number;
  ioErrors: number;
  workerCrashes: number;
  /** Rows of succeeded chunks. */
  rows: number;
  /** Seconds. */
  durationSum: number;
  /** Attempts per CHUNK_DURATION_BUCKETS bucket; the last is +Inf. */
  durationBuckets: number[];
}

export interface BatchRow extends SeriesKey, BatchCounts {}

/** Replica health of one deployment's build, as one backend instance sampled it. */
export interface ReplicaCounts {
  samples: number;
  /** Restarts during the bucket. */
  restarts: number;
  /** CPU used during the bucket, all replicas together. */
  cpuSeconds: number;
  /** Highest resident memory of all replicas together. */
  memoryBytesMax: number;
  /** Fewest ready replicas seen. */
  readyMin: number;
  desiredMax: number;
}

export interface ReplicaRow extends SeriesKey, ReplicaCounts {
  instanceId: string;
}

/** Everything one flush writes, in one transaction. */
export interface MetricsBatch {
  calls?: CallRow[];
  predictions?: PredictionRow[];
  kpis?: KpiRow[];
  batch?: BatchRow[];
  replicas?: ReplicaRow[];
}

/** Which rows a read covers: buckets starting in [from, to). */
export interface MetricsWindow {
  /** Omitted: every model. */
  modelRef?: string;
  /** Epoch milliseconds. */
  from: number;
  to: number;
  deploymentId?: string;
  version?: number;
  /** Only rows of this resolution (60 or 3600). */
  resolution?: number;
}

/** A read summed per step of `stepMs`, counted from `origin` (default `from`). */
export interface StepWindow extends MetricsWindow {
  stepMs: number;
  origin?: number;
}

/**
 * Where a sum belongs: the step its buckets start in, and the resolution of
 * those buckets (a downsampled hour read at one-minute steps spreads over
 * the steps it covers).
 */
export interface StepSlot {
  step: number;
  resolution: number;
}

export type CallStepSums = StepSlot & CallCounts & { version: number };
export type KpiStepSums = StepSlot & {
  kpi: string;
  sum: number;
  count: number;
};
export type BatchStepSums = StepSlot & BatchCounts;
export type ReplicaStepSums = StepSlot & ReplicaCounts & { instanceId: string };

export interface PredictionSums {
  output: string;
  kind: 'numeric' | 'class';
  bin: string;
  count: number;
  valueSum: number;
}

/** Calls of one model over a window. */
export type ModelCallSums = CallCounts & { modelRef: string };

/** A deployment and version with data in a window (for filters). */
export interface SeriesInWindow {
  deploymentId: string;
  version: number;
}
