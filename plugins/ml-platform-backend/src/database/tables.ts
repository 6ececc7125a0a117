/**
 * The rows of the plugin's tables as knex returns them (see migrations/).
 * Timestamps are Dates on PostgreSQL and epoch numbers on SQLite; bigints
 * are strings on PostgreSQL.
 */

type Timestamp = Date | number | string;
type BigInt = number | string;

export interface DbModelRow {
  entity_ref: string;
  git_url: string | null;
  git_path: string | null;
  default_branch: string | null;
  manifest_path: string | null;
  last_build_version: number;
  registered_at: Timestamp;
  updated_at: Timestamp;
}

export interface DbBuildRow {
  id: string;
  model_ref: string;
  version: number;
  status: string;
  trigger: string;
  trigger_source: string | null;
  requested_by: string | null;
  branch: string | null;
  commit_sha: string | null;
  /** commit_sha of a push or poll build: unique per model. */
  automatic_commit: string | null;
  commit_message: string | null;
  commit_author: string | null;
  failure_reason: string | null;
  /** JSON array of steps. */
  steps: string;
  /** The validated mlmodel.yaml as JSON. */
  manifest: string | null;
  artifact_uri: string | null;
  artifact_digest: string | null;
  claimed_by: string | null;
  heartbeat_at: Timestamp | null;
  cancel_requested_at: Timestamp | null;
  created_at: Timestamp;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
}

export interface DbBuildLogRow {
  id: BigInt;
  build_id: string;
  step: string | null;
  line: string;
  created_at: Timestamp;
}

export interface DbDeploymentRow {
  id: string;
  model_ref: string;
  build_id: string;
  type: string;
  status: string;
  reason: string | null;
  replicas: number;
  min_replicas: number;
  max_replicas: number;
  ready_replicas: number;
  /** JSON batch settings. */
  batch: string | null;
  created_by: string | null;
  scaled_to_zero_at: Timestamp | null;
  last_scheduled_at: Timestamp | null;
  /** The backend instance that drives the runtime for it. */
  owner: string | null;
  owner_heartbeat_at: Timestamp | null;
  /** The last invocation on any instance. */
  last_request_at: Timestamp | null;
  /** JSON replicas as the runtime reported them. */
  replica_status: string | null;
  /** JSON labels from the entity's kubernetes-label-selector. */
  labels: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: Timestamp | null;
}

export interface DbExecutionRow {
  id: string;
  model_ref: string;
  deployment_id: string | null;
  build_id: string;
  status: string;
  /** JSON input description. */
  input: string;
  /** JSON output description. */
  output: string;
  chunk_size: number;
  parallelism: number;
  max_retries: number;
  chunks_total: number | null;
  rows_total: BigInt | null;
  error: string | null;
  trigger: string;
  claimed_by: string | null;
  heartbeat_at: Timestamp | null;
  cancel_requested_at: Timestamp | null;
  result_uri: string | null;
  created_by: string | null;
  created_at: Timestamp;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
}

/** An execution row with the sums of its chunks. */
export interface DbExecutionWithCountsRow extends DbExecutionRow {
  chunks_done: BigInt | null;
  chunks_failed: BigInt | null;
  rows_done: BigInt | null;
  rows_failed: BigInt | null;
}

export interface DbChunkRow {
  execution_id: string;
  seq: number;
  row_start: BigInt;
  row_end: BigInt;
  status: string;
  attempts: number;
  error: string | null;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
}

export interface DbActivityRow {
  id: BigInt;
  model_ref: string;
  action: string;
  actor: string;
  outcome: string;
  message: string;
  subject_id: string | null;
  request_id: string | null;
  created_at: Timestamp;
}

export interface DbSigningKeyRow {
  id: string;
  secret: string;
  created_at: Timestamp;
}

/**
 * The columns every table of the embedded metrics store starts with
 * (migrations/20261203300000_metrics.js): one bucket of one series.
 */
export interface DbMetricsSeriesColumns {
  /** Seconds the row covers: 60 or 3600. */
  resolution: number;
  /** Epoch milliseconds. */
  bucket_start: BigInt;
  model_ref: string;
  deployment_id: string;
  build_id: string;
  version: number;
}

/** Latency histogram columns `lat_b0` to `lat_b15`, calls per bucket. */
export type DbLatencyBucketColumns = { [column: `lat_b${number}`]: BigInt };
/** Chunk duration histogram columns `dur_b0` to `dur_b15`. */
export type DbDurationBucketColumns = { [column: `dur_b${number}`]: BigInt };

export interface DbMetricsCallRow
  extends DbMetricsSeriesColumns,
    DbLatencyBucketColumns {
  route: string;
  caller_kind: string;
  requests: BigInt;
  caller_errors: BigInt;
  model_errors: BigInt;
  unavailable: BigInt;
  timeouts: BigInt;
  rows: BigInt;
  latency_sum: number;
  in_flight_max: number;
}

export interface DbMetricsPredictionRow extends DbMetricsSeriesColumns {
  output: string;
  kind: string;
  bin: string;
  count: BigInt;
  value_sum: number;
}

export interface DbMetricsKpiRow extends DbMetricsSeriesColumns {
  kpi: string;
  sum: number;
  count: BigInt;
}

export interface DbMetricsBatchRow
  extends DbMetricsSeriesColumns,
    DbDurationBucketColumns {
  chunks: BigInt;
  bad_input: BigInt;
  model_errors: BigInt;
  io_errors: BigInt;
  worker_crashes: BigInt;
  rows: BigInt;
  duration_sum: number;
}

export interface DbMetricsReplicaRow extends DbMetricsSeriesColumns {
  instance_id: string;
  samples: number;
  restarts: BigInt;
  cpu_seconds: number;
  memory_bytes_max: BigInt;
  ready_min: number;
  desired_max: number;
}

/**
 * A metrics row summed by the database: every value column a sum, minimum
 * or maximum (strings on PostgreSQL for bigints and numerics), plus the
 * step the sum belongs to when read per step.
 */
export type DbMetricsSums<Row> = {
  [Column in keyof Row]: number extends Row[Column]
    ? number | string
    : Row[Column];
} & { step?: number | string };

/** An alert rule set through the API (migrations/20261203600000_alerts.js). */
export interface DbAlertRuleRow {
  model_ref: string;
  name: string;
  /** JSON: metric, output, op, threshold, for, severity. */
  rule: string;
  position: number;
  updated_by: string | null;
  /** Epoch milliseconds. */
  updated_at: BigInt;
}

/** The current state of one rule of one model; times in epoch milliseconds. */
export interface DbAlertStateRow {
  model_ref: string;
  rule: string;
  state: string;
  since: BigInt | null;
  pending_since: BigInt | null;
  value: number | null;
  evaluated_at: BigInt | null;
  silenced_until: BigInt | null;
  silenced_by: string | null;
}

/** A state change of a rule. */
export interface DbAlertHistoryRow {
  id: BigInt;
  model_ref: string;
  rule: string;
  state: string;
  value: number | null;
  threshold: number | null;
  at: BigInt;
  source: string;
  /** 0/1 on SQLite. */
  notified: boolean | number;
  silenced: boolean | number;
}

/**
 * A row of `prediction_event_segments`: events of one model written
 * together; times in epoch milliseconds.
 */
export interface DbPredictionEventSegmentRow {
  id: number;
  model_ref: string;
  min_time: BigInt;
  max_time: BigInt;
  count: number;
  /** JSON array of PredictionEvent; '' when `events_zlib` holds it. */
  events: string;
  /** The JSON array zlib-compressed (RFC 1950): segments written since. */
  events_zlib: Buffer | null;
}

/** A row of `subscriptions`. */
export interface DbSubscriptionRow {
  id: string;
  model_ref: string;
  deployment_id: string;
  topic: string;
  filter: string | null;
  mapping: string;
  output_topic: string;
  idempotency_key: string | null;
  enabled: boolean | number;
  received: number | string;
  filtered: number | string;
  predicted: number | string;
  failed: number | string;
  created_at: Date | string;
  updated_at: Date | string;
}

/** A row of `subscription_deliveries`. */
export interface DbSubscriptionDeliveryRow {
  id: string;
  subscription_id: string;
  event_key: string;
  topic: string;
  payload: string;
  status: string;
  attempts: number;
  next_attempt_at: number | string;
  claimed_by: string | null;
  claimed_until: number | string | null;
  reason: string | null;
  received_at: number | string;
  finished_at: number | string | null;
}

/** A row of `model_logs`. */
export interface DbModelLogRow {
  id: number | string;
  model_ref: string;
  source: string;
  subject_id: string;
  version: number;
  time: number | string;
  level: string;
  stream: string | null;
  line: string;
}
