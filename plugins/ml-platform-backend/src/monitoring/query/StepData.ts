import {
  DistributionBin,
  MetricSeries,
  ModelMetrics,
  PredictionDistribution,
} from '@internal/plugin-ml-platform-common';
import {
  CHUNK_DURATION_BUCKETS,
  CHUNK_OUTCOMES,
  ChunkOutcome,
  ERROR_OUTCOMES,
  LATENCY_BUCKETS,
  Outcome,
  PREDICTION_BUCKETS,
} from '../metricNames';
import { quantile } from './quantile';

/** Counts per output bin, in one window. */
export type Distribution = Map<
  string,
  { kind: 'numeric' | 'class'; bins: Map<string, number>; sum: number }
>;

type ErrorOutcome = Exclude<Outcome, 'success'>;

/** A value per step; NaN where nothing was measured (a gauge). */
const gauge = (steps: number) => new Float64Array(steps).fill(NaN);

/**
 * Counts of one model per step of a range, filled by a metrics source (the
 * embedded store or Prometheus) and turned into the API's answer. Both
 * sources fill the same counts, so both answer alike.
 */
export class StepData {
  readonly requests: Float64Array;
  readonly requestsByVersion = new Map<number, Float64Array>();
  readonly errors: Record<ErrorOutcome, Float64Array>;
  readonly rows: Float64Array;
  /** Per step, LATENCY_BUCKETS.length + 1 counts. */
  readonly latency: Float64Array;
  readonly inFlight: Float64Array;
  readonly kpis = new Map<string, { sum: Float64Array; count: Float64Array }>();
  readonly batchRows: Float64Array;
  readonly batchChunks: Record<ChunkOutcome, Float64Array>;
  /** Per step, CHUNK_DURATION_BUCKETS.length + 1 counts. */
  readonly chunkDurations: Float64Array;
  readonly restarts: Float64Array;
  readonly cpuSeconds: Float64Array;
  readonly memoryBytes: Float64Array;
  readonly readyReplicas: Float64Array;
  readonly desiredReplicas: Float64Array;
  readonly predictions = { current: new Map(), previous: new Map() } as {
    current: Distribution;
    previous: Distribution;
  };
  readonly deployments = new Set<string>();
  readonly versions = new Set<number>();

  constructor(
    readonly from: number,
    readonly stepMs: number,
    readonly steps: number,
  ) {
    const counts = () => new Float64Array(steps);
    this.requests = counts();
    this.errors = {
      caller_error: counts(),
      model_error: counts(),
      unavailable: counts(),
      timeout: counts(),
    };
    this.rows = counts();
    this.latency = new Float64Array(steps * (LATENCY_BUCKETS.length + 1));
    this.inFlight = gauge(steps);
    this.batchRows = counts();
    this.batchChunks = Object.fromEntries(
      CHUNK_OUTCOMES.map(o => [o, counts()]),
    ) as Record<ChunkOutcome, Float64Array>;
    this.chunkDurations = new Float64Array(
      steps * (CHUNK_DURATION_BUCKETS.length + 1),
    );
    this.restarts = counts();
    this.cpuSeconds = counts();
    this.memoryBytes = gauge(steps);
    this.readyReplicas = gauge(steps);
    this.desiredReplicas = gauge(steps);
  }

  get to(): number {
    return this.from + this.steps * this.stepMs;
  }

  /**
   * The steps a bucket of `resolutionSeconds` starting in `step` covers,
   * with the share of its counts each gets: a downsampled hour read at
   * one-minute steps is spread evenly over its sixty steps.
   */
  spread(
    step: number,
    resolutionSeconds: number,
    add: (index: number, share: number) => void,
  ) {
    const span = this.span(resolutionSeconds);
    for (let k = 0; k < span; k++) {
      const index = step + k;
      if (index >= 0 && index < this.steps) add(index, 1 / span);
    }
  }

  /** Whether a bucket starting in `step` reaches into the range. */
  covers(step: number, resolutionSeconds: number): boolean {
    return step + this.span(resolutionSeconds) > 0 && step < this.steps;
  }

  private span(resolutionSeconds: number) {
    return Math.max(1, Math.round((resolutionSeconds * 1000) / this.stepMs));
  }

  versionRequests(version: number): Float64Array {
    let series = this.requestsByVersion.get(version);
    if (!series) {
      series = new Float64Array(this.steps);
      this.requestsByVersion.set(version, series);
    }
    this.versions.add(version);
    return series;
  }

  kpi(name: string) {
    let kpi = this.kpis.get(name);
    if (!kpi) {
      kpi = {
        sum: new Float64Array(this.steps),
        count: new Float64Array(this.steps),
      };
      this.kpis.set(name, kpi);
    }
    return kpi;
  }

  /** Keeps the highest value of a gauge in a step. */
  static max(series: Float64Array, index: number, value: number) {
    const current = series[index];
    series[index] = Number.isNaN(current) ? value : Math.max(current, value);
  }

  /** Adds to a gauge summed over series (e.g. replicas of several instances). */
  static add(series: Float64Array, index: number, value: number) {
    const current = series[index];
    series[index] = Number.isNaN(current) ? value : current + value;
  }

  static addPrediction(
    distribution: Distribution,
    output: string,
    kind: 'numeric' | 'class',
    bin: string,
    count: number,
    valueSum: number,
  ) {
    let bins = distribution.get(output);
    if (!bins) {
      bins = { kind, bins: new Map(), sum: 0 };
      distribution.set(output, bins);
    }
    bins.bins.set(bin, (bins.bins.get(bin) ?? 0) + count);
    bins.sum += valueSum;
  }

  /** The API's answer. */
  toModelMetrics(source: ModelMetrics['source']): ModelMetrics {
    const { steps, stepMs } = this;
    const seconds = stepMs / 1000;
    const perSecond = (counts: Float64Array) =>
      Array.from(counts, v => round(v / seconds));
    const nb = LATENCY_BUCKETS.length + 1;
    const latencyAt = (i: number) => this.latency.subarray(i * nb, i * nb + nb);
    const totalLatency = new Float64Array(nb);
    for (let i = 0; i < steps; i++) {
      const step = latencyAt(i);
      for (let b = 0; b < nb; b++) totalLatency[b] += step[b];
    }
    const requests = sum(this.requests);
    const errors = ERROR_OUTCOMES.reduce((n, o) => n + sum(this.errors[o]), 0);
    const ratio = (part: Float64Array) =>
      Array.from(part, (v, i) =>
        this.requests[i] > 0 ? round(v / this.requests[i]) : null,
      );
    const allErrors = new Float64Array(steps);
    for (const o of ERROR_OUTCOMES) {
      this.errors[o].forEach((v, i) => {
        allErrors[i] += v;
      });
    }
    const percentiles = (
      bounds: readonly number[],
      at: (i: number) => Float64Array,
      qs: [string, number][],
    ): MetricSeries[] =>
      qs.map(([name, q]) => ({
        name,
        values: Array.from({ length: steps }, (_, i) =>
          nullable(quantile(q, bounds, at(i))),
        ),
      }));
    const nd = CHUNK_DURATION_BUCKETS.length + 1;
    const failedChunks = CHUNK_OUTCOMES.filter(o => o !== 'success').reduce(
      (n, o) => n + sum(this.batchChunks[o]),
      0,
    );

    return {
      source,
      from: new Date(this.from).toISOString(),
      to: new Date(this.to).toISOString(),
      stepSeconds: seconds,
      timestamps: Array.from(
        { length: steps },
        (_, i) => this.from + i * stepMs,
      ),
      deployments: [...this.deployments].filter(Boolean).sort(),
      versions: [...this.versions].sort((a, b) => a - b),
      summary: {
        requests: Math.round(requests),
        requestsPerSecond: round(requests / (steps * seconds)),
        errors: Math.round(errors),
        errorRatio: requests > 0 ? round(errors / requests) : null,
        rows: Math.round(sum(this.rows)),
        latencyP50: nullable(quantile(0.5, LATENCY_BUCKETS, totalLatency)),
        latencyP95: nullable(quantile(0.95, LATENCY_BUCKETS, totalLatency)),
        latencyP99: nullable(quantile(0.99, LATENCY_BUCKETS, totalLatency)),
      },
      requestsPerSecond: [...this.requestsByVersion.entries()]
        .sort(([a], [b]) => a - b)
        .map(([version, counts]) => ({
          name: String(version),
          values: perSecond(counts),
        })),
      latencySeconds: percentiles(LATENCY_BUCKETS, latencyAt, [
        ['p50', 0.5],
        ['p95', 0.95],
        ['p99', 0.99],
      ]),
      errorRatio: [
        { name: 'all', values: ratio(allErrors) },
        ...ERROR_OUTCOMES.map(o => ({
          name: o,
          values: ratio(this.errors[o]),
        })),
      ],
      rowsPerSecond: [{ name: 'rows', values: perSecond(this.rows) }],
      inFlight: [{ name: 'max', values: gaugeValues(this.inFlight) }],
      predictions: this.distributions(),
      kpis: [...this.kpis.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, kpi]) => ({
          name,
          sum: Array.from(kpi.sum, (v, i) =>
            kpi.count[i] > 0 ? round(v) : null,
          ),
          count: Array.from(kpi.count, v => round(v)),
          total: { sum: round(sum(kpi.sum)), count: round(sum(kpi.count)) },
        })),
      replicas: {
        restarts: [
          { name: 'restarts', values: Array.from(this.restarts, round) },
        ],
        ready: [
          { name: 'ready', values: gaugeValues(this.readyReplicas) },
          { name: 'desired', values: gaugeValues(this.desiredReplicas) },
        ],
        cpuCores: [
          {
            name: 'cpu',
            values: Array.from(this.cpuSeconds, (v, i) =>
              Number.isNaN(this.readyReplicas[i]) && v === 0
                ? null
                : round(v / seconds),
            ),
          },
        ],
        memoryBytes: [
          { name: 'memory', values: gaugeValues(this.memoryBytes) },
        ],
        current: [],
      },
      batch: {
        rowsPerSecond: [{ name: 'rows', values: perSecond(this.batchRows) }],
        chunks: CHUNK_OUTCOMES.map(o => ({
          name: o === 'success' ? 'succeeded' : o,
          values: Array.from(this.batchChunks[o], round),
        })),
        chunkSeconds: percentiles(
          CHUNK_DURATION_BUCKETS,
          i => this.chunkDurations.subarray(i * nd, i * nd + nd),
          [
            ['p50', 0.5],
            ['p95', 0.95],
          ],
        ),
        totals: {
          chunks: Math.round(
            CHUNK_OUTCOMES.reduce((n, o) => n + sum(this.batchChunks[o]), 0),
          ),
          failedChunks: Math.round(failedChunks),
          rows: Math.round(sum(this.batchRows)),
        },
      },
    };
  }

  private distributions(): PredictionDistribution[] {
    const { current, previous } = this.predictions;
    const outputs = new Set([...current.keys(), ...previous.keys()]);
    return [...outputs].sort().map(output => {
      const now = current.get(output);
      const before = previous.get(output);
      const kind = now?.kind ?? before?.kind ?? 'class';
      const count = (d: typeof now, bin: string) => d?.bins.get(bin) ?? 0;
      const total = (d: typeof now) =>
        [...(d?.bins.values() ?? [])].reduce((n, v) => n + v, 0);
      let bins: DistributionBin[];
      if (kind === 'numeric') {
        const all = numericBins().map(b => ({
          ...b,
          current: Math.round(count(now, b.key)),
          previous: Math.round(count(before, b.key)),
        }));
        // From the first to the last bin with a count: a continuous histogram.
        const used = all
          .map((b, i) => (b.current + b.previous > 0 ? i : -1))
          .filter(i => i >= 0);
        bins = (used.length ? all.slice(used[0], used.at(-1)! + 1) : []).map(
          ({ key: _key, ...b }) => b,
        );
      } else {
        const values = new Set([
          ...(now?.bins.keys() ?? []),
          ...(before?.bins.keys() ?? []),
        ]);
        bins = [...values]
          .map(bin => ({
            bin,
            current: Math.round(count(now, bin)),
            previous: Math.round(count(before, bin)),
          }))
          .sort((a, b) => b.current - a.current || a.bin.localeCompare(b.bin));
      }
      const mean = (d: typeof now) =>
        kind === 'numeric' && total(d) > 0 ? round(d!.sum / total(d)) : null;
      return {
        output,
        kind,
        bins,
        currentTotal: Math.round(total(now)),
        previousTotal: Math.round(total(before)),
        ...(kind === 'numeric'
          ? { currentMean: mean(now), previousMean: mean(before) }
          : {}),
      };
    });
  }
}

/** The numeric bins: stored key (upper bound, `+Inf`), label and bound. */
function numericBins(): { key: string; bin: string; le?: number }[] {
  return [...PREDICTION_BUCKETS, Infinity].map((le, i) => {
    const lower = PREDICTION_BUCKETS[i - 1];
    if (le === Infinity) {
      return { key: '+Inf', bin: `> ${lower}` };
    }
    return {
      key: String(le),
      bin: lower === undefined ? `≤ ${le}` : `${lower} to ${le}`,
      le,
    };
  });
}

function sum(values: Float64Array): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/** Six significant digits: enough for a chart, short in JSON. */
function round(value: number): number {
  return Number.isFinite(value) ? Number(value.toPrecision(6)) : 0;
}

function nullable(value: number | undefined): number | null {
  return value === undefined ? null : round(value);
}

function gaugeValues(series: Float64Array): Array<number | null> {
  return Array.from(series, v => (Number.isNaN(v) ? null : round(v)));
}
