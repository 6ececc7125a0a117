/**
 * Model health as `GET models/{namespace}/{name}/metrics` answers it, from
 * the embedded store or from Prometheus (same shape either way).
 */

/** One line of a chart: a value per step, null where there was nothing to measure. @public */
export interface MetricSeries {
  /** What the line is, e.g. `p95`, `model_error`, or a version `3`. */
  name: string;
  values: Array<number | null>;
}

/** Calls over the whole range, for a health card. @public */
export interface MetricsSummary {
  requests: number;
  requestsPerSecond: number;
  errors: number;
  /** errors / requests; null without requests. */
  errorRatio: number | null;
  rows: number;
  /** Seconds; null without requests. */
  latencyP50: number | null;
  latencyP95: number | null;
  latencyP99: number | null;
}

/** A bin of a prediction distribution, in the current and the previous window. @public */
export interface DistributionBin {
  /** A class value, or a numeric bucket such as `0.4-0.5` (`> 10000` last). */
  bin: string;
  /** The bucket's upper bound, for numeric outputs. */
  le?: number;
  current: number;
  previous: number;
}

/** How one output's predictions spread, now against the window before. @public */
export interface PredictionDistribution {
  output: string;
  kind: 'numeric' | 'class';
  bins: DistributionBin[];
  /** Predictions counted in the current and the previous window. */
  currentTotal: number;
  previousTotal: number;
  /** Mean of a numeric output's values in each window; null without values. */
  currentMean?: number | null;
  previousMean?: number | null;
}

/** A custom KPI a model returns (`kpis` in its predictions). @public */
export interface KpiMetrics {
  name: string;
  /** Sum per step. */
  sum: Array<number | null>;
  /** Values reported per step. */
  count: Array<number | null>;
  total: { sum: number; count: number };
}

/** A replica as the runtime sees it now. @public */
export interface ReplicaHealth {
  deploymentId: string;
  replicaId: string;
  buildId: string;
  version?: number;
  state: string;
  ready: boolean;
  restarts: number;
  /** CPU time since the process started; absent where not measured. */
  cpuSeconds?: number;
  memoryBytes?: number;
  lastError?: string;
  startedAt: string;
}

/** @public */
export interface ModelMetrics {
  /** `embedded` (the platform's database) or `prometheus` (PromQL). */
  source: 'embedded' | 'prometheus';
  from: string;
  to: string;
  stepSeconds: number;
  /** Start of each step, epoch milliseconds. */
  timestamps: number[];
  /** Deployments and versions with data in the range (for filters). */
  deployments: string[];
  versions: number[];
  summary: MetricsSummary;
  /** Requests per second, one line per version. */
  requestsPerSecond: MetricSeries[];
  /** `p50`, `p95`, `p99`, in seconds. */
  latencySeconds: MetricSeries[];
  /** Errors / requests per class (`caller_error`, `model_error`, `unavailable`, `timeout`) and `all`. */
  errorRatio: MetricSeries[];
  rowsPerSecond: MetricSeries[];
  /** Highest number of calls under way at once. */
  inFlight: MetricSeries[];
  /** Current window (the range) against the previous one of the same length. */
  predictions: PredictionDistribution[];
  kpis: KpiMetrics[];
  replicas: {
    /** Restarts per step. */
    restarts: MetricSeries[];
    /** `ready` (fewest ready) and `desired`. */
    ready: MetricSeries[];
    /** CPU cores in use (CPU seconds per second). */
    cpuCores: MetricSeries[];
    memoryBytes: MetricSeries[];
    /** The live deployment's replicas now (embedded: this backend's runtime). */
    current: ReplicaHealth[];
  };
  batch: {
    rowsPerSecond: MetricSeries[];
    /** Chunk attempts per step: `succeeded` and each failure kind. */
    chunks: MetricSeries[];
    /** `p50`, `p95` of chunk durations, seconds. */
    chunkSeconds: MetricSeries[];
    totals: { chunks: number; failedChunks: number; rows: number };
  };
}

/** The last window's calls of one model, for the ML Platform page. @public */
export interface ModelTraffic {
  ref: string;
  requests: number;
  requestsPerSecond: number;
  errorRatio: number | null;
  latencyP95: number | null;
}
