import { Knex } from 'knex';
import {
  DbMetricsBatchRow,
  DbMetricsCallRow,
  DbMetricsKpiRow,
  DbMetricsPredictionRow,
  DbMetricsReplicaRow,
  DbMetricsSeriesColumns,
  DbMetricsSums,
} from '../tables';
import { MetricsStore } from './MetricsStore';
import {
  BatchCounts,
  BatchRow,
  BatchStepSums,
  CallCounts,
  CallRow,
  CallStepSums,
  HOUR,
  KpiRow,
  KpiStepSums,
  MINUTE,
  MetricsBatch,
  MetricsWindow,
  ModelCallSums,
  PredictionRow,
  PredictionSums,
  ReplicaCounts,
  ReplicaRow,
  ReplicaStepSums,
  SeriesInWindow,
  SeriesKey,
  StepWindow,
} from './types';

/** Histogram bucket columns, as created by the metrics migration. */
const LATENCY_COLUMNS = Array.from(
  { length: 16 },
  (_, i) => `lat_b${i}` as const,
);
const DURATION_COLUMNS = Array.from(
  { length: 16 },
  (_, i) => `dur_b${i}` as const,
);

/** Rows per INSERT: far below SQLite's limit of bound variables. */
const INSERT_CHUNK = 400;

type Combine = 'sum' | 'min' | 'max';

/** One table: its series key columns and how each value column combines. */
interface TableSpec<Row extends DbMetricsSeriesColumns> {
  name: string;
  key: (keyof Row & string)[];
  values: Partial<Record<keyof Row & string, Combine>>;
}

const SERIES_KEY: (keyof DbMetricsSeriesColumns)[] = [
  'resolution',
  'bucket_start',
  'model_ref',
  'deployment_id',
  'build_id',
];

const sums = <Column extends string>(
  columns: Column[],
): Record<Column, Combine> =>
  Object.fromEntries(columns.map(c => [c, 'sum' as const])) as Record<
    Column,
    Combine
  >;

const CALLS: TableSpec<DbMetricsCallRow> = {
  name: 'metrics_calls',
  key: [...SERIES_KEY, 'route', 'caller_kind'],
  values: {
    ...sums([
      'requests',
      'caller_errors',
      'model_errors',
      'unavailable',
      'timeouts',
      'rows',
      'latency_sum',
      ...LATENCY_COLUMNS,
    ]),
    in_flight_max: 'max',
  },
};
const PREDICTIONS: TableSpec<DbMetricsPredictionRow> = {
  name: 'metrics_predictions',
  key: [...SERIES_KEY, 'output', 'kind', 'bin'],
  values: { count: 'sum', value_sum: 'sum' },
};
const KPIS: TableSpec<DbMetricsKpiRow> = {
  name: 'metrics_kpis',
  key: [...SERIES_KEY, 'kpi'],
  values: { sum: 'sum', count: 'sum' },
};
const BATCH: TableSpec<DbMetricsBatchRow> = {
  name: 'metrics_batch',
  key: SERIES_KEY,
  values: sums([
    'chunks',
    'bad_input',
    'model_errors',
    'io_errors',
    'worker_crashes',
    'rows',
    'duration_sum',
    ...DURATION_COLUMNS,
  ]),
};
const REPLICAS: TableSpec<DbMetricsReplicaRow> = {
  name: 'metrics_replicas',
  key: [...SERIES_KEY, 'instance_id'],
  values: {
    samples: 'sum',
    restarts: 'sum',
    cpu_seconds: 'sum',
    memory_bytes_max: 'max',
    ready_min: 'min',
    desired_max: 'max',
  },
};
const TABLES = [CALLS, PREDICTIONS, KPIS, BATCH, REPLICAS];

/**
 * Rows at resolution 60 merged into the hours they fall in (resolution
 * 3600), combining values as the table says.
 */
function hourRows<Row extends DbMetricsSeriesColumns>(
  table: TableSpec<Row>,
  rows: Row[],
): Row[] {
  const hourMs = HOUR * 1000;
  const hours = new Map<string, Row>();
  for (const row of rows) {
    if (row.resolution !== MINUTE) continue;
    const hour: Row = {
      ...row,
      resolution: HOUR,
      bucket_start: Math.floor(Number(row.bucket_start) / hourMs) * hourMs,
    };
    const key = JSON.stringify(table.key.map(k => hour[k]));
    const into = hours.get(key);
    if (!into) {
      hours.set(key, hour);
      continue;
    }
    // Value columns are numbers in rows about to be written.
    const values = into as Record<string, unknown>;
    const added = hour as Record<string, unknown>;
    for (const [column, combine] of Object.entries(table.values)) {
      const a = values[column] as number;
      const b = added[column] as number;
      if (combine === 'sum') values[column] = a + b;
      else values[column] = combine === 'max' ? Math.max(a, b) : Math.min(a, b);
    }
  }
  return [...hours.values()];
}

/** PostgreSQL's numeric sums arrive as strings; SQLite's as numbers. */
const num = (value: unknown): number => Number(value ?? 0);

function seriesColumns(row: SeriesKey): DbMetricsSeriesColumns {
  return {
    resolution: row.resolution,
    bucket_start: row.bucketStart,
    model_ref: row.modelRef,
    deployment_id: row.deploymentId,
    build_id: row.buildId,
    version: row.version,
  };
}

function bucketColumns<Column extends string>(
  columns: Column[],
  values: number[],
): Record<Column, number> {
  return Object.fromEntries(
    columns.map((c, i) => [c, values[i] ?? 0]),
  ) as Record<Column, number>;
}

function callColumns(row: CallRow): DbMetricsCallRow {
  return {
    ...seriesColumns(row),
    route: row.route,
    caller_kind: row.callerKind,
    requests: row.requests,
    caller_errors: row.callerErrors,
    model_errors: row.modelErrors,
    unavailable: row.unavailable,
    timeouts: row.timeouts,
    rows: row.rows,
    latency_sum: row.latencySum,
    in_flight_max: row.inFlightMax,
    ...bucketColumns(LATENCY_COLUMNS, row.latencyBuckets),
  };
}

function predictionColumns(row: PredictionRow): DbMetricsPredictionRow {
  return {
    ...seriesColumns(row),
    output: row.output,
    kind: row.kind,
    bin: row.bin,
    count: row.count,
    value_sum: row.valueSum,
  };
}

function kpiColumns(row: KpiRow): DbMetricsKpiRow {
  return {
    ...seriesColumns(row),
    kpi: row.kpi,
    sum: row.sum,
    count: row.count,
  };
}

function batchColumns(row: BatchRow): DbMetricsBatchRow {
  return {
    ...seriesColumns(row),
    chunks: row.chunks,
    bad_input: row.badInput,
    model_errors: row.modelErrors,
    io_errors: row.ioErrors,
    worker_crashes: row.workerCrashes,
    rows: row.rows,
    duration_sum: row.durationSum,
    ...bucketColumns(DURATION_COLUMNS, row.durationBuckets),
  };
}

function replicaColumns(row: ReplicaRow): DbMetricsReplicaRow {
  return {
    ...seriesColumns(row),
    instance_id: row.instanceId,
    samples: row.samples,
    restarts: row.restarts,
    cpu_seconds: row.cpuSeconds,
    memory_bytes_max: row.memoryBytesMax,
    ready_min: row.readyMin,
    desired_max: row.desiredMax,
  };
}

function toCallCounts(row: DbMetricsSums<DbMetricsCallRow>): CallCounts {
  return {
    requests: num(row.requests),
    callerErrors: num(row.caller_errors),
    modelErrors: num(row.model_errors),
    unavailable: num(row.unavailable),
    timeouts: num(row.timeouts),
    rows: num(row.rows),
    latencySum: num(row.latency_sum),
    inFlightMax: num(row.in_flight_max),
    latencyBuckets: LATENCY_COLUMNS.map(c => num(row[c])),
  };
}

function toBatchCounts(row: DbMetricsSums<DbMetricsBatchRow>): BatchCounts {
  return {
    chunks: num(row.chunks),
    badInput: num(row.bad_input),
    modelErrors: num(row.model_errors),
    ioErrors: num(row.io_errors),
    workerCrashes: num(row.worker_crashes),
    rows: num(row.rows),
    durationSum: num(row.duration_sum),
    durationBuckets: DURATION_COLUMNS.map(c => num(row[c])),
  };
}

function toReplicaCounts(
  row: DbMetricsSums<DbMetricsReplicaRow>,
): ReplicaCounts {
  return {
    samples: num(row.samples),
    restarts: num(row.restarts),
    cpuSeconds: num(row.cpu_seconds),
    memoryBytesMax: num(row.memory_bytes_max),
    readyMin: num(row.ready_min),
    desiredMax: num(row.desired_max),
  };
}

/**
 * The metrics store on the platform's database (SQLite or PostgreSQL).
 * Writes add to existing rows in SQL, so flushes never read first and
 * several backend instances can write the same minute.
 */
export class DatabaseMetricsStore implements MetricsStore {
  private readonly isPostgres: boolean;

  constructor(private readonly db: Knex) {
    this.isPostgres = db.client.config.client === 'pg';
  }

  async add(batch: MetricsBatch): Promise<void> {
    const calls = (batch.calls ?? []).map(callColumns);
    const predictions = (batch.predictions ?? []).map(predictionColumns);
    const kpis = (batch.kpis ?? []).map(kpiColumns);
    const chunks = (batch.batch ?? []).map(batchColumns);
    const replicas = (batch.replicas ?? []).map(replicaColumns);
    const total =
      calls.length +
      predictions.length +
      kpis.length +
      chunks.length +
      replicas.length;
    if (total === 0) return;
    await this.db.transaction(async trx => {
      await this.write(trx, CALLS, calls);
      await this.write(trx, PREDICTIONS, predictions);
      await this.write(trx, KPIS, kpis);
      await this.write(trx, BATCH, chunks);
      await this.write(trx, REPLICAS, replicas);
    });
  }

  async sumCalls(window: StepWindow): Promise<CallStepSums[]> {
    const rows: DbMetricsSums<DbMetricsCallRow>[] = await this.stepQuery(
      CALLS,
      window,
    )
      .select('version')
      .groupBy('version');
    return rows.map(row => ({
      step: num(row.step),
      resolution: num(row.resolution),
      version: num(row.version),
      ...toCallCounts(row),
    }));
  }

  async sumCallsByModel(window: MetricsWindow): Promise<ModelCallSums[]> {
    const rows: DbMetricsSums<DbMetricsCallRow>[] = await this.windowQuery(
      CALLS,
      window,
    )
      .select('model_ref', ...this.aggregates(CALLS))
      .groupBy('model_ref');
    return rows.map(row => ({
      modelRef: row.model_ref,
      ...toCallCounts(row),
    }));
  }

  async sumPredictions(window: MetricsWindow): Promise<PredictionSums[]> {
    const rows: DbMetricsSums<DbMetricsPredictionRow>[] =
      await this.windowQuery(PREDICTIONS, window)
        .select(
          'output',
          'kind',
          'bin',
          this.db.raw('SUM(count) AS count'),
          this.db.raw('SUM(value_sum) AS value_sum'),
        )
        .groupBy('output', 'kind', 'bin');
    return rows.map(row => ({
      output: row.output,
      kind: row.kind as PredictionSums['kind'],
      bin: row.bin,
      count: num(row.count),
      valueSum: num(row.value_sum),
    }));
  }

  async sumKpis(window: StepWindow): Promise<KpiStepSums[]> {
    const rows: DbMetricsSums<DbMetricsKpiRow>[] = await this.stepQuery(
      KPIS,
      window,
    )
      .select('kpi')
      .groupBy('kpi');
    return rows.map(row => ({
      step: num(row.step),
      resolution: num(row.resolution),
      kpi: row.kpi,
      sum: num(row.sum),
      count: num(row.count),
    }));
  }

  async sumBatch(window: StepWindow): Promise<BatchStepSums[]> {
    const rows: DbMetricsSums<DbMetricsBatchRow>[] = await this.stepQuery(
      BATCH,
      window,
    );
    return rows.map(row => ({
      step: num(row.step),
      resolution: num(row.resolution),
      ...toBatchCounts(row),
    }));
  }

  async sumReplicas(window: StepWindow): Promise<ReplicaStepSums[]> {
    const rows: DbMetricsSums<DbMetricsReplicaRow>[] = await this.stepQuery(
      REPLICAS,
      window,
    )
      .select('instance_id')
      .groupBy('instance_id');
    return rows.map(row => ({
      step: num(row.step),
      resolution: num(row.resolution),
      instanceId: row.instance_id,
      ...toReplicaCounts(row),
    }));
  }

  async listSeries(window: MetricsWindow): Promise<SeriesInWindow[]> {
    type Series = Pick<DbMetricsSeriesColumns, 'deployment_id' | 'version'>;
    const query = <Row extends DbMetricsSeriesColumns>(
      table: TableSpec<Row>,
    ): Promise<Series[]> =>
      this.windowQuery(table, window).distinct('deployment_id', 'version');
    const rows = [...(await query(CALLS)), ...(await query(BATCH))];
    const seen = new Map<string, SeriesInWindow>();
    for (const row of rows) {
      const series = {
        deploymentId: row.deployment_id,
        version: num(row.version),
      };
      seen.set(`${series.deploymentId}/${series.version}`, series);
    }
    return [...seen.values()].sort(
      (a, b) =>
        a.version - b.version || a.deploymentId.localeCompare(b.deploymentId),
    );
  }

  async downsample(before: number): Promise<number> {
    // Hours were written alongside their minutes: only minutes go.
    const hourMs = HOUR * 1000;
    return this.deleteBefore(MINUTE, Math.floor(before / hourMs) * hourMs);
  }

  async deleteBefore(resolution: number, before: number): Promise<number> {
    let deleted = 0;
    for (const table of TABLES) {
      deleted += await this.db(table.name)
        .where('resolution', resolution)
        .where('bucket_start', '<', before)
        .delete();
    }
    return deleted;
  }

  /** Minute rows, and the hours holding them: long ranges read hours only. */
  private async write<Row extends DbMetricsSeriesColumns>(
    trx: Knex.Transaction,
    table: TableSpec<Row>,
    rows: Row[],
  ) {
    await this.upsert(trx, table, rows);
    await this.upsert(trx, table, hourRows(table, rows));
  }

  /** Adds rows to a table: counts add up, maxima and minima combine. */
  private async upsert<Row extends DbMetricsSeriesColumns>(
    trx: Knex.Transaction,
    table: TableSpec<Row>,
    rows: Row[],
  ) {
    if (rows.length === 0) return;
    const [max, min] = this.isPostgres ? ['GREATEST', 'LEAST'] : ['MAX', 'MIN'];
    const merge = Object.fromEntries(
      Object.entries(table.values).map(([column, combine]) => {
        const existing = `${table.name}.${column}`;
        const incoming = `excluded.${column}`;
        const sql =
          combine === 'sum'
            ? `${existing} + ${incoming}`
            : `${combine === 'max' ? max : min}(${existing}, ${incoming})`;
        return [column, trx.raw(sql)];
      }),
    );
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      await trx(table.name)
        .insert(rows.slice(i, i + INSERT_CHUNK))
        .onConflict(table.key)
        .merge(merge);
    }
  }

  /** SUM/MIN/MAX of a table's value columns, named after them. */
  private aggregates<Row extends DbMetricsSeriesColumns>(
    table: TableSpec<Row>,
    db: Knex = this.db,
  ) {
    return Object.entries(table.values).map(([column, combine]) =>
      db.raw(`${combine.toUpperCase()}(??) AS ??`, [column, column]),
    );
  }

  private windowQuery<Row extends DbMetricsSeriesColumns>(
    table: TableSpec<Row>,
    window: MetricsWindow,
  ) {
    // Rows as the read site types them (sums, per step), not as stored.
    const query = this.db(table.name)
      .where('bucket_start', '>=', window.from)
      .where('bucket_start', '<', window.to);
    if (window.modelRef) query.where('model_ref', window.modelRef);
    if (window.deploymentId) query.where('deployment_id', window.deploymentId);
    if (window.version !== undefined) query.where('version', window.version);
    if (window.resolution !== undefined) {
      query.where('resolution', window.resolution);
    }
    return query;
  }

  /** A table's values summed per step (from the origin) and resolution. */
  private stepQuery<Row extends DbMetricsSeriesColumns>(
    table: TableSpec<Row>,
    window: StepWindow,
  ) {
    const step = this.db.raw('CAST((bucket_start - ?) / ? AS INTEGER)', [
      window.origin ?? window.from,
      window.stepMs,
    ]);
    return this.windowQuery(table, window)
      .select(
        this.db.raw(`${step.toQuery()} AS step`),
        'resolution',
        ...this.aggregates(table),
      )
      .groupByRaw(step.toQuery())
      .groupBy('resolution');
  }
}
