/**
 * The platform's Prometheus metric names, labels and bucket bounds: one
 * place for the exposition, the PromQL mode, and anything generated from
 * them (dashboards, alert rules). Names follow Prometheus conventions
 * (base units, `_total` counters) and the OpenTelemetry HTTP server
 * semantics where they fit (request duration in seconds, error type).
 */
export const METRICS = {
  /** Counter: calls through the gateway, by `outcome`. */
  requests: 'ml_platform_model_requests_total',
  /** Histogram: gateway call duration in seconds, replica time included. */
  requestDuration: 'ml_platform_model_request_duration_seconds',
  /** Counter: rows predicted (rows of successful calls). */
  rows: 'ml_platform_model_rows_total',
  /** Gauge: calls under way through the gateway. */
  inFlight: 'ml_platform_model_in_flight_requests',
  /** Histogram: numeric prediction values, per `output`. */
  predictionValue: 'ml_platform_model_prediction_value',
  /** Counter: class and boolean predictions, per `output` and `value`. */
  predictions: 'ml_platform_model_predictions_total',
  /** Summary (sum and count): custom KPIs a model returns, per `kpi`. */
  kpi: 'ml_platform_model_kpi',
  /** Gauge: 1 when a replica serves, else 0. */
  replicaReady: 'ml_platform_replica_ready',
  /** Counter: restarts of a replica after its process died. */
  replicaRestarts: 'ml_platform_replica_restarts_total',
  /** Counter: CPU seconds (user + system) used by a replica's process. */
  replicaCpu: 'ml_platform_replica_cpu_seconds_total',
  /** Gauge: resident memory of a replica's process. */
  replicaMemory: 'ml_platform_replica_resident_memory_bytes',
  /** Gauge: replicas a deployment should have. */
  replicasDesired: 'ml_platform_deployment_replicas_desired',
  /** Counter: rows of batch chunks, by `outcome`. */
  batchRows: 'ml_platform_batch_rows_total',
  /** Counter: batch chunk attempts, by `outcome`. */
  batchChunks: 'ml_platform_batch_chunks_total',
  /** Histogram: duration of batch chunk attempts in seconds. */
  batchChunkDuration: 'ml_platform_batch_chunk_duration_seconds',
} as const;

/** Labels of every model series. */
export const MODEL_LABELS = [
  'namespace',
  'model',
  'version',
  'deployment',
] as const;

/** Labels of every online call series: the model's, then how it was called. */
export const CALL_LABELS = [...MODEL_LABELS, 'route', 'caller_kind'] as const;

/**
 * How a call ended: `success` (2xx), `caller_error` (4xx: the request was
 * wrong), `model_error` (5xx from the model), `unavailable` (503: no ready
 * replica), `timeout` (504: the model did not answer in time).
 */
export const OUTCOMES = [
  'success',
  'caller_error',
  'model_error',
  'unavailable',
  'timeout',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** The error outcomes, i.e. every outcome but `success`. */
export const ERROR_OUTCOMES = OUTCOMES.slice(1) as Exclude<
  Outcome,
  'success'
>[];

/** Online routes: the two HTTP paths, and invocations from events. */
export const ROUTES = ['records', 'v2', 'event'] as const;
export type CallRoute = (typeof ROUTES)[number];

export const CALLER_KINDS = ['user', 'service', 'event'] as const;
export type CallerKind = (typeof CALLER_KINDS)[number];

export function outcomeOf(status: number): Outcome {
  if (status < 400) return 'success';
  if (status === 503) return 'unavailable';
  if (status === 504) return 'timeout';
  if (status < 500) return 'caller_error';
  return 'model_error';
}

/** Call duration buckets, seconds: 0.5 ms to 30 s. */
export const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
  10, 30,
];

/** Batch chunk duration buckets, seconds: 10 ms to 30 min. */
export const CHUNK_DURATION_BUCKETS = [
  0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800,
];

/**
 * Numeric prediction buckets: tenths across [0, 1] for probabilities and
 * scores, then decades either side for regressions.
 */
export const PREDICTION_BUCKETS = [
  -1000, -100, -10, -1, 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 10,
  100, 1000, 10000,
];

/** Distinct class values counted per output; the rest count as `__other__`. */
export const MAX_CLASS_VALUES = 20;
/** Outputs and KPIs tracked per model version; more are ignored. */
export const MAX_OUTPUTS = 16;
export const MAX_KPIS = 16;
export const OTHER_VALUE = '__other__';
/** Longest output, class or KPI name kept (longer ones are cut). */
export const MAX_NAME_LENGTH = 128;

/** Batch chunk outcomes: done, or the kind of failure the worker reported. */
export const CHUNK_OUTCOMES = [
  'success',
  'bad_input',
  'model_error',
  'io_error',
  'worker_crashed',
] as const;
export type ChunkOutcome = (typeof CHUNK_OUTCOMES)[number];

/** The index of the bucket `value` falls in; `bounds.length` is +Inf. */
export function bucketIndex(bounds: readonly number[], value: number): number {
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (value <= bounds[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
