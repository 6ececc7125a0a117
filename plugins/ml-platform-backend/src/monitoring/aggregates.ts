import { BatchCounts, CallCounts } from '../database/metrics/types';
import {
  CHUNK_DURATION_BUCKETS,
  ChunkOutcome,
  LATENCY_BUCKETS,
  MAX_CLASS_VALUES,
  MAX_KPIS,
  MAX_NAME_LENGTH,
  MAX_OUTPUTS,
  OTHER_VALUE,
  Outcome,
  PREDICTION_BUCKETS,
  bucketIndex,
} from './metricNames';
import { PredictionSink } from './readPredictions';

/** One output's distribution: numeric buckets, or counts per class. */
export interface OutputDistribution {
  /** Per PREDICTION_BUCKETS bucket, the last +Inf; present once a number was seen. */
  numeric?: number[];
  /** Sum of the numeric values per bucket (for means). */
  numericSum?: number[];
  classes: Map<string, number>;
}

export function emptyCallCounts(): CallCounts {
  return {
    requests: 0,
    callerErrors: 0,
    modelErrors: 0,
    unavailable: 0,
    timeouts: 0,
    rows: 0,
    latencySum: 0,
    inFlightMax: 0,
    latencyBuckets: new Array(LATENCY_BUCKETS.length + 1).fill(0),
  };
}

export function emptyBatchCounts(): BatchCounts {
  return {
    chunks: 0,
    badInput: 0,
    modelErrors: 0,
    ioErrors: 0,
    workerCrashes: 0,
    rows: 0,
    durationSum: 0,
    durationBuckets: new Array(CHUNK_DURATION_BUCKETS.length + 1).fill(0),
  };
}

function addArrays(into: number[], from: number[]) {
  for (let i = 0; i < from.length; i++) into[i] = (into[i] ?? 0) + from[i];
}

export function addCallCounts(into: CallCounts, from: CallCounts) {
  into.requests += from.requests;
  into.callerErrors += from.callerErrors;
  into.modelErrors += from.modelErrors;
  into.unavailable += from.unavailable;
  into.timeouts += from.timeouts;
  into.rows += from.rows;
  into.latencySum += from.latencySum;
  into.inFlightMax = Math.max(into.inFlightMax, from.inFlightMax);
  addArrays(into.latencyBuckets, from.latencyBuckets);
}

export function addBatchCounts(into: BatchCounts, from: BatchCounts) {
  into.chunks += from.chunks;
  into.badInput += from.badInput;
  into.modelErrors += from.modelErrors;
  into.ioErrors += from.ioErrors;
  into.workerCrashes += from.workerCrashes;
  into.rows += from.rows;
  into.durationSum += from.durationSum;
  addArrays(into.durationBuckets, from.durationBuckets);
}

/**
 * Calls of one series over one period (a minute not yet flushed, or the
 * total since the backend started): counts, the prediction distribution
 * and custom KPIs, with capped cardinality.
 */
export class CallAggregate implements PredictionSink {
  readonly counts = emptyCallCounts();
  readonly outputs = new Map<string, OutputDistribution>();
  readonly kpis = new Map<string, { sum: number; count: number }>();

  /** Counts one finished call; cheap, it runs on the gateway's path. */
  call(outcome: Outcome, seconds: number, inFlight: number) {
    const c = this.counts;
    c.requests++;
    switch (outcome) {
      case 'success':
        break;
      case 'caller_error':
        c.callerErrors++;
        break;
      case 'model_error':
        c.modelErrors++;
        break;
      case 'unavailable':
        c.unavailable++;
        break;
      default:
        c.timeouts++;
    }
    c.latencySum += seconds;
    c.latencyBuckets[bucketIndex(LATENCY_BUCKETS, seconds)]++;
    if (inFlight > c.inFlightMax) c.inFlightMax = inFlight;
  }

  number(output: string, value: number) {
    const distribution = this.output(output);
    if (!distribution) return;
    if (!distribution.numeric) {
      distribution.numeric = new Array(PREDICTION_BUCKETS.length + 1).fill(0);
      distribution.numericSum = new Array(PREDICTION_BUCKETS.length + 1).fill(
        0,
      );
    }
    const bucket = bucketIndex(PREDICTION_BUCKETS, value);
    distribution.numeric[bucket]++;
    distribution.numericSum![bucket] += value;
  }

  category(output: string, value: string) {
    const distribution = this.output(output);
    if (!distribution) return;
    const { classes } = distribution;
    const name = value.slice(0, MAX_NAME_LENGTH);
    const key =
      classes.has(name) || classes.size < MAX_CLASS_VALUES ? name : OTHER_VALUE;
    classes.set(key, (classes.get(key) ?? 0) + 1);
  }

  kpi(kpiName: string, value: number) {
    const name = kpiName.slice(0, MAX_NAME_LENGTH);
    let kpi = this.kpis.get(name);
    if (!kpi) {
      if (this.kpis.size >= MAX_KPIS) return;
      kpi = { sum: 0, count: 0 };
      this.kpis.set(name, kpi);
    }
    kpi.sum += value;
    kpi.count++;
  }

  /** Adds another aggregate of the same series (a flushed minute to the total). */
  add(other: CallAggregate) {
    addCallCounts(this.counts, other.counts);
    for (const [name, from] of other.outputs) {
      const into = this.output(name);
      if (!into) continue;
      if (from.numeric) {
        into.numeric ??= new Array(from.numeric.length).fill(0);
        into.numericSum ??= new Array(from.numeric.length).fill(0);
        addArrays(into.numeric, from.numeric);
        addArrays(into.numericSum, from.numericSum ?? []);
      }
      for (const [value, count] of from.classes) {
        const key =
          into.classes.has(value) || into.classes.size < MAX_CLASS_VALUES
            ? value
            : OTHER_VALUE;
        into.classes.set(key, (into.classes.get(key) ?? 0) + count);
      }
    }
    for (const [name, { sum, count }] of other.kpis) {
      let kpi = this.kpis.get(name);
      if (!kpi) {
        if (this.kpis.size >= MAX_KPIS) continue;
        kpi = { sum: 0, count: 0 };
        this.kpis.set(name, kpi);
      }
      kpi.sum += sum;
      kpi.count += count;
    }
  }

  private output(outputName: string): OutputDistribution | undefined {
    const name = outputName.slice(0, MAX_NAME_LENGTH);
    let distribution = this.outputs.get(name);
    if (!distribution) {
      if (this.outputs.size >= MAX_OUTPUTS) return undefined;
      distribution = { classes: new Map() };
      this.outputs.set(name, distribution);
    }
    return distribution;
  }
}

/** Chunk attempts of one batch series over one period. */
export class BatchAggregate {
  readonly counts = emptyBatchCounts();
  /** Rows of failed attempts, by failure kind (for the exposition). */
  readonly failedRows = new Map<Exclude<ChunkOutcome, 'success'>, number>();

  chunk(outcome: ChunkOutcome, rows: number, seconds: number) {
    const c = this.counts;
    c.chunks++;
    c.durationSum += seconds;
    c.durationBuckets[bucketIndex(CHUNK_DURATION_BUCKETS, seconds)]++;
    switch (outcome) {
      case 'success':
        c.rows += rows;
        return;
      case 'bad_input':
        c.badInput++;
        break;
      case 'model_error':
        c.modelErrors++;
        break;
      case 'io_error':
        c.ioErrors++;
        break;
      default:
        c.workerCrashes++;
    }
    this.failedRows.set(outcome, (this.failedRows.get(outcome) ?? 0) + rows);
  }

  add(other: BatchAggregate) {
    addBatchCounts(this.counts, other.counts);
    for (const [outcome, rows] of other.failedRows) {
      this.failedRows.set(outcome, (this.failedRows.get(outcome) ?? 0) + rows);
    }
  }
}
