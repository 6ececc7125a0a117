import { LoggerService } from '@backstage/backend-plugin-api';
import { MetricsStore } from '../database/metrics/MetricsStore';
import {
  BatchRow,
  CallRow,
  KpiRow,
  MINUTE,
  MetricsBatch,
  SeriesKey,
} from '../database/metrics/types';
import { BatchAggregate, CallAggregate } from './aggregates';
import { BuildVersions } from './BuildVersions';
import {
  CallRoute,
  CallerKind,
  ChunkOutcome,
  PREDICTION_BUCKETS,
  outcomeOf,
} from './metricNames';
import { countRows, hasKpis, readPredictions } from './readPredictions';
import { ReplicaSampler } from './ReplicaSampler';
import { errorMeta } from '../util/logging';

const MINUTE_MS = MINUTE * 1000;

/** One call through the gateway, as the recorder needs it. */
export interface RecordedCall {
  modelRef: string;
  deploymentId: string;
  buildId: string;
  route: CallRoute;
  callerKind: CallerKind;
  status: number;
  latencyMs: number;
  /** Calls under way for the deployment when this one started, itself included. */
  inFlight: number;
  /** The model's answer, for a successful call: rows, outputs, KPIs. */
  response?: Buffer;
  /**
   * When the call ended (epoch ms), for a call recorded after the fact
   * (the native data plane's, read from its log): it counts in that minute.
   */
  endedAt?: number;
}

/** One attempt of a batch chunk. */
export interface RecordedChunk {
  modelRef: string;
  deploymentId?: string;
  buildId: string;
  outcome: ChunkOutcome;
  rows: number;
  seconds: number;
}

/** What identifies a series, resolved labels included. */
interface SeriesIdentity {
  modelRef: string;
  deploymentId: string;
  buildId: string;
}

/**
 * A series' aggregates: what the store has, what a flush is writing, and
 * minutes not flushed yet. The exposition adds all three, so its counters
 * never go down while a flush is under way or after one failed.
 */
class Series<A extends { add(other: A): void }, I extends SeriesIdentity> {
  readonly stored: A;
  writing: A[] = [];
  pending = new Map<number, A>();
  /** The minute calls go to, kept to skip the map on the hot path. */
  minute = -1;
  current?: A;
  /** Answers read in the current second, for the reading budget. */
  private readSecond = -1;
  private reads = 0;

  constructor(readonly identity: I, private readonly create: () => A) {
    this.stored = create();
  }

  at(minute: number): A {
    let aggregate = this.pending.get(minute);
    if (!aggregate) {
      aggregate = this.create();
      this.pending.set(minute, aggregate);
    }
    this.minute = minute;
    this.current = aggregate;
    return aggregate;
  }

  /** Whether another answer may be read in `second` (at most `limit`). */
  mayRead(second: number, limit: number): boolean {
    if (second !== this.readSecond) {
      this.readSecond = second;
      this.reads = 0;
    }
    return this.reads++ < limit;
  }

  /** Moves pending minutes to `writing`; the next call starts a new aggregate. */
  takePending(): [number, A][] {
    const taken = [...this.pending.entries()];
    this.pending = new Map();
    this.minute = -1;
    this.current = undefined;
    this.writing.push(...taken.map(([, a]) => a));
    return taken;
  }

  /** The write succeeded: the aggregates are in the store. */
  written(aggregates: A[]) {
    for (const a of aggregates) {
      this.stored.add(a);
      this.writing.splice(this.writing.indexOf(a), 1);
    }
  }

  /** The write failed: the minutes are pending again, for the next flush. */
  failed(taken: [number, A][]) {
    for (const [minute, a] of taken) {
      this.writing.splice(this.writing.indexOf(a), 1);
      const pending = this.pending.get(minute);
      if (pending) pending.add(a);
      else this.pending.set(minute, a);
    }
    this.minute = -1;
    this.current = undefined;
  }

  /** Everything since the backend started. */
  total(): A {
    const total = this.create();
    total.add(this.stored);
    for (const a of this.writing) total.add(a);
    for (const a of this.pending.values()) total.add(a);
    return total;
  }
}

interface CallIdentity extends SeriesIdentity {
  route: CallRoute;
  callerKind: CallerKind;
}

export type CallSeriesTotal = CallIdentity & { total: CallAggregate };
export type BatchSeriesTotal = SeriesIdentity & { total: BatchAggregate };

export interface MetricsRecorderOptions {
  store: MetricsStore;
  versions: BuildVersions;
  replicas?: ReplicaSampler;
  logger: LoggerService;
  /** Epoch milliseconds now; tests pass a controllable clock. */
  clock?: () => number;
  /** Responses larger than this are counted but not read. */
  maxReadBytes?: number;
  /**
   * Successful answers read per second and series for the prediction
   * distribution; beyond it, answers are counted (rows) but not read.
   * Answers that report KPIs are always read.
   */
  answersReadPerSecond?: number;
}

/**
 * Records every call through the gateway and every batch chunk: counts in
 * memory per series and minute (no write per request), the model's answer
 * read after it was sent (rows, prediction distribution, custom KPIs), and a
 * batched flush to the metrics store. The Prometheus exposition reads the
 * same aggregates.
 */
export class MetricsRecorder {
  /** Call series per deployment: a few each (builds, routes, callers). */
  private readonly calls = new Map<
    string,
    Series<CallAggregate, CallIdentity>[]
  >();
  private readonly batches = new Map<
    string,
    Series<BatchAggregate, SeriesIdentity>
  >();
  private readonly clock: () => number;
  private readonly maxReadBytes: number;
  private readonly answersReadPerSecond: number;
  /** Answers to read, after the response went out. */
  private toRead: {
    aggregate: CallAggregate;
    route: CallRoute;
    body: Buffer;
  }[] = [];
  private readScheduled = false;
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(private readonly options: MetricsRecorderOptions) {
    this.clock = options.clock ?? Date.now;
    this.maxReadBytes = options.maxReadBytes ?? 1024 * 1024;
    this.answersReadPerSecond = options.answersReadPerSecond ?? 100;
  }

  /** Counts one call; runs on the gateway's path, so it only adds numbers. */
  recordCall(call: RecordedCall): void {
    // No key string to build and hash per call: the deployment's id is the
    // same string each time, and it has only a few series.
    let list = this.calls.get(call.deploymentId);
    if (!list) {
      list = [];
      this.calls.set(call.deploymentId, list);
    }
    let series: Series<CallAggregate, CallIdentity> | undefined;
    for (const candidate of list) {
      const id = candidate.identity;
      if (
        id.buildId === call.buildId &&
        id.route === call.route &&
        id.callerKind === call.callerKind
      ) {
        series = candidate;
        break;
      }
    }
    if (!series) {
      series = new Series(
        {
          modelRef: call.modelRef,
          deploymentId: call.deploymentId,
          buildId: call.buildId,
          route: call.route,
          callerKind: call.callerKind,
        },
        () => new CallAggregate(),
      );
      list.push(series);
      void this.options.versions.get(call.buildId); // labels ready for the flush
    }
    const now = call.endedAt ?? this.clock();
    const minute = now - (now % MINUTE_MS);
    const aggregate =
      series.minute === minute ? series.current! : series.at(minute);
    const outcome = outcomeOf(call.status);
    aggregate.call(outcome, call.latencyMs / 1000, call.inFlight);
    const body = call.response;
    if (outcome !== 'success' || !body) return;
    // Reading an answer (JSON.parse) costs more than the rest of the
    // recording: under load the distribution is read from a sample, while
    // rows and KPIs stay exact.
    if (
      body.length <= this.maxReadBytes &&
      (series.mayRead(Math.floor(now / 1000), this.answersReadPerSecond) ||
        hasKpis(body))
    ) {
      this.toRead.push({ aggregate, route: call.route, body });
      if (!this.readScheduled) {
        this.readScheduled = true;
        setImmediate(() => this.readResponses());
      }
    } else {
      aggregate.counts.rows += countRows(call.route, body) ?? 0;
    }
  }

  recordChunk(chunk: RecordedChunk): void {
    const deploymentId = chunk.deploymentId ?? '';
    const key = `${deploymentId}\n${chunk.buildId}`;
    let series = this.batches.get(key);
    if (!series) {
      series = new Series(
        { modelRef: chunk.modelRef, deploymentId, buildId: chunk.buildId },
        () => new BatchAggregate(),
      );
      this.batches.set(key, series);
    }
    const now = this.clock();
    series
      .at(now - (now % MINUTE_MS))
      .chunk(chunk.outcome, chunk.rows, chunk.seconds);
  }

  /** Totals since the backend started, per call series (for the exposition). */
  callTotals(): CallSeriesTotal[] {
    this.readResponses();
    return this.callSeries().map(series => ({
      ...series.identity,
      total: series.total(),
    }));
  }

  batchTotals(): BatchSeriesTotal[] {
    return [...this.batches.values()].map(series => ({
      ...series.identity,
      total: series.total(),
    }));
  }

  /** Flushes every `intervalMs` until stopped. */
  start(intervalMs: number) {
    this.timer = setInterval(() => {
      void this.flush().catch(error =>
        this.options.logger.warn('metrics flush failed', errorMeta(error)),
      );
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what is pending. */
  async stop() {
    clearInterval(this.timer);
    await this.flush();
  }

  /**
   * Writes pending minutes (and a replica sample) to the store in one
   * transaction. One flush at a time; a failed one keeps its minutes pending.
   */
  flush(): Promise<void> {
    const next = (this.flushing ?? Promise.resolve()).then(() =>
      this.flushOnce(),
    );
    this.flushing = next.catch(() => undefined);
    return next;
  }

  private async flushOnce() {
    this.readResponses();
    const now = this.clock();
    const calls = this.callSeries().map(s => [s, s.takePending()] as const);
    const batches = [...this.batches.values()].map(
      s => [s, s.takePending()] as const,
    );
    try {
      const batch: MetricsBatch = {
        calls: [],
        predictions: [],
        kpis: [],
        batch: [],
        replicas: await this.options.replicas?.sample(now - (now % MINUTE_MS)),
      };
      for (const [series, taken] of calls) {
        for (const [minute, aggregate] of taken) {
          await this.callRows(series.identity, minute, aggregate, batch);
        }
      }
      for (const [series, taken] of batches) {
        for (const [minute, aggregate] of taken) {
          batch.batch!.push(
            this.batchRow(
              await this.seriesKey(series.identity, minute),
              aggregate,
            ),
          );
        }
      }
      await this.options.store.add(batch);
    } catch (error) {
      for (const [series, taken] of calls) series.failed(taken);
      for (const [series, taken] of batches) series.failed(taken);
      throw error;
    }
    for (const [series, taken] of calls) series.written(taken.map(t => t[1]));
    for (const [series, taken] of batches) {
      series.written(taken.map(t => t[1]));
    }
  }

  private callSeries() {
    return [...this.calls.values()].flat();
  }

  private readResponses() {
    this.readScheduled = false;
    const toRead = this.toRead;
    this.toRead = [];
    for (const { aggregate, route, body } of toRead) {
      const rows = readPredictions(route, body, aggregate);
      if (rows !== undefined) aggregate.counts.rows += rows;
    }
  }

  private async seriesKey(
    identity: SeriesIdentity,
    minute: number,
  ): Promise<SeriesKey> {
    return {
      resolution: MINUTE,
      bucketStart: minute,
      modelRef: identity.modelRef,
      deploymentId: identity.deploymentId,
      buildId: identity.buildId,
      version: await this.options.versions.get(identity.buildId),
    };
  }

  private async callRows(
    identity: CallIdentity,
    minute: number,
    aggregate: CallAggregate,
    batch: MetricsBatch,
  ) {
    const key = await this.seriesKey(identity, minute);
    const row: CallRow = {
      ...key,
      route: identity.route,
      callerKind: identity.callerKind,
      ...aggregate.counts,
    };
    batch.calls!.push(row);
    for (const [output, distribution] of aggregate.outputs) {
      distribution.numeric?.forEach((count, i) => {
        if (count === 0) return;
        const bin =
          i < PREDICTION_BUCKETS.length
            ? String(PREDICTION_BUCKETS[i])
            : '+Inf';
        batch.predictions!.push({
          ...key,
          output,
          kind: 'numeric',
          bin,
          count,
          valueSum: distribution.numericSum?.[i] ?? 0,
        });
      });
      for (const [value, count] of distribution.classes) {
        batch.predictions!.push({
          ...key,
          output,
          kind: 'class',
          bin: value,
          count,
          valueSum: 0,
        });
      }
    }
    for (const [kpi, { sum, count }] of aggregate.kpis) {
      const kpiRow: KpiRow = { ...key, kpi, sum, count };
      batch.kpis!.push(kpiRow);
    }
  }

  private batchRow(key: SeriesKey, aggregate: BatchAggregate): BatchRow {
    return { ...key, ...aggregate.counts };
  }
}
