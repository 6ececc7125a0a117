import { parseEntityRef } from '@backstage/catalog-model';
import { ServiceUnavailableError } from '@backstage/errors';
import { ModelTraffic } from '@internal/plugin-ml-platform-common';
import {
  CHUNK_DURATION_BUCKETS,
  CHUNK_OUTCOMES,
  ChunkOutcome,
  LATENCY_BUCKETS,
  METRICS,
  PREDICTION_BUCKETS,
} from '../metricNames';
import { MetricsRequest, MetricsSource } from './MetricsSource';
import { quantile } from './quantile';
import { StepData } from './StepData';

/** One series of a Prometheus range query. */
interface RangeSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

export interface PrometheusMetricsSourceOptions {
  /** e.g. `http://prometheus:9090`. */
  baseUrl: string;
  /** Sent as a bearer token, when the Prometheus needs one. */
  token?: string;
  fetch?: typeof fetch;
}

/** A PromQL string literal. */
function literal(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function selector(labels: Record<string, string | undefined>): string {
  const matchers = Object.entries(labels)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${literal(v!)}`);
  return `{${matchers.join(',')}}`;
}

/** The index of a bucket's `le` label among `bounds` (+Inf last). */
function bucketOf(bounds: readonly number[], le: string): number | undefined {
  if (le === '+Inf') return bounds.length;
  const value = Number(le);
  const index = bounds.findIndex(
    b => Math.abs(b - value) <= 1e-12 * Math.abs(b),
  );
  return index >= 0 ? index : undefined;
}

/**
 * The increase of a counter series between consecutive evaluation points
 * `from + i × step` (i = 0..steps), added by point index: exact counts, no
 * extrapolation (unlike `increase()`), so they match what the gateway
 * counted. A series that appears within the range counts from zero (the
 * platform creates counters at their first increment); a lower value is a
 * restart, counted from zero too; a missing point keeps the last value.
 */
export function counterIncreases(
  series: RangeSeries,
  from: number,
  stepMs: number,
  steps: number,
  add: (step: number, increase: number) => void,
) {
  let last: number | undefined;
  for (const [time, text] of series.values) {
    const point = Math.round((time * 1000 - from) / stepMs);
    const value = Number(text);
    if (!Number.isFinite(value) || point < 0 || point > steps) continue;
    if (point > 0) {
      const increase =
        last === undefined || value < last ? value : value - last;
      if (increase > 0) add(point - 1, increase);
    }
    last = value;
  }
}

/**
 * Model health from a Prometheus that scrapes the platform's
 * `/api/ml-platform/metrics` (`mlPlatform.monitoring.prometheus.baseUrl`):
 * the same answer as the embedded store, read with PromQL range queries.
 * Counters are read raw at each step and differenced here, so counts are
 * exact rather than extrapolated.
 */
export class PrometheusMetricsSource implements MetricsSource {
  readonly type = 'prometheus';
  private readonly baseUrl: string;

  constructor(private readonly options: PrometheusMetricsSourceOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  async read(request: MetricsRequest): Promise<StepData> {
    const data = new StepData(request.from, request.stepMs, request.steps);
    const { namespace, name } = parseEntityRef(request.modelRef);
    const model = { namespace, model: name };
    const filters = {
      ...model,
      deployment: request.deploymentId,
      version:
        request.version === undefined ? undefined : String(request.version),
    };
    const s = selector(filters);
    const stepSeconds = request.stepMs / 1000;
    const range = (query: string) =>
      this.rangeQuery(query, request.from, data.to, request.stepMs);
    // Gauges over each step, evaluated at its end.
    const overSteps = (query: string) =>
      this.rangeQuery(
        query,
        request.from + request.stepMs,
        data.to,
        request.stepMs,
      );
    const increases = (
      series: RangeSeries[],
      add: (s: RangeSeries, step: number, increase: number) => void,
    ) => {
      for (const one of series) {
        counterIncreases(
          one,
          request.from,
          request.stepMs,
          request.steps,
          (i, v) => add(one, i, v),
        );
      }
    };
    const rangeSelectorOverStep = `[${stepSeconds}s]`;

    const [
      requests,
      durations,
      rows,
      inFlight,
      kpiSums,
      kpiCounts,
      batchRows,
      batchChunks,
      chunkDurations,
      restarts,
      cpu,
      memory,
      ready,
      desired,
    ] = await Promise.all([
      range(`${METRICS.requests}${s}`),
      range(`${METRICS.requestDuration}_bucket${s}`),
      range(`${METRICS.rows}${s}`),
      overSteps(
        `max_over_time(${METRICS.inFlight}${s}${rangeSelectorOverStep})`,
      ),
      range(`${METRICS.kpi}_sum${s}`),
      range(`${METRICS.kpi}_count${s}`),
      range(
        `${METRICS.batchRows}${selector({ ...filters, outcome: 'success' })}`,
      ),
      range(`${METRICS.batchChunks}${s}`),
      range(`${METRICS.batchChunkDuration}_bucket${s}`),
      range(`${METRICS.replicaRestarts}${s}`),
      range(`${METRICS.replicaCpu}${s}`),
      overSteps(
        `sum(max_over_time(${METRICS.replicaMemory}${s}${rangeSelectorOverStep}))`,
      ),
      overSteps(
        `sum(min_over_time(${METRICS.replicaReady}${s}${rangeSelectorOverStep}))`,
      ),
      overSteps(
        `sum(max_over_time(${METRICS.replicasDesired}${selector({
          ...model,
          deployment: request.deploymentId,
        })}${rangeSelectorOverStep}))`,
      ),
    ]);

    const note = (series: RangeSeries) => {
      if (series.metric.deployment)
        data.deployments.add(series.metric.deployment);
      const version = Number(series.metric.version);
      if (Number.isInteger(version)) data.versions.add(version);
    };
    increases(requests, (one, i, v) => {
      note(one);
      data.requests[i] += v;
      data.versionRequests(Number(one.metric.version) || 0)[i] += v;
      const outcome = one.metric.outcome;
      if (outcome && outcome !== 'success' && outcome in data.errors) {
        data.errors[outcome as keyof typeof data.errors][i] += v;
      }
    });
    const nb = LATENCY_BUCKETS.length + 1;
    this.addHistogram(durations, LATENCY_BUCKETS, request, (i, b, v) => {
      data.latency[i * nb + b] += v;
    });
    increases(rows, (_one, i, v) => {
      data.rows[i] += v;
    });
    for (const one of inFlight) {
      this.gaugeSteps(one, request, (i, v) =>
        StepData.max(data.inFlight, i, v),
      );
    }
    increases(kpiSums, (one, i, v) => {
      data.kpi(one.metric.kpi ?? '').sum[i] += v;
    });
    increases(kpiCounts, (one, i, v) => {
      data.kpi(one.metric.kpi ?? '').count[i] += v;
    });
    increases(batchRows, (one, i, v) => {
      note(one);
      data.batchRows[i] += v;
    });
    increases(batchChunks, (one, i, v) => {
      note(one);
      const outcome = one.metric.outcome as ChunkOutcome;
      if (CHUNK_OUTCOMES.includes(outcome)) data.batchChunks[outcome][i] += v;
    });
    const nd = CHUNK_DURATION_BUCKETS.length + 1;
    this.addHistogram(
      chunkDurations,
      CHUNK_DURATION_BUCKETS,
      request,
      (i, b, v) => {
        data.chunkDurations[i * nd + b] += v;
      },
    );
    increases(restarts, (_one, i, v) => {
      data.restarts[i] += v;
    });
    increases(cpu, (_one, i, v) => {
      data.cpuSeconds[i] += v;
    });
    for (const [series, into] of [
      [memory, data.memoryBytes],
      [ready, data.readyReplicas],
      [desired, data.desiredReplicas],
    ] as const) {
      for (const one of series) {
        this.gaugeSteps(one, request, (i, v) => StepData.add(into, i, v));
      }
    }

    await this.readPredictions(request, s, data);
    return data;
  }

  async traffic(from: number, to: number): Promise<ModelTraffic[]> {
    // Raw counters at both ends of the window, differenced like `read`:
    // `increase()` misses calls a counter had when first scraped.
    const length = to - from;
    const window = { from, stepMs: length, steps: 1 } as MetricsRequest;
    const [requests, buckets] = await Promise.all([
      this.rangeQuery(METRICS.requests, from, to, length),
      this.rangeQuery(`${METRICS.requestDuration}_bucket`, from, to, length),
    ]);
    const models = new Map<
      string,
      { requests: number; errors: number; latency: Float64Array }
    >();
    const model = (m: Record<string, string>) => {
      const ref = `component:${m.namespace}/${m.model}`;
      let counts = models.get(ref);
      if (!counts) {
        counts = {
          requests: 0,
          errors: 0,
          latency: new Float64Array(LATENCY_BUCKETS.length + 1),
        };
        models.set(ref, counts);
      }
      return counts;
    };
    for (const one of requests) {
      counterIncreases(one, from, length, 1, (_step, v) => {
        const counts = model(one.metric);
        counts.requests += v;
        if (one.metric.outcome !== 'success') counts.errors += v;
      });
    }
    const byModel = new Map<string, RangeSeries[]>();
    for (const one of buckets) {
      const ref = `${one.metric.namespace}/${one.metric.model}`;
      byModel.set(ref, [...(byModel.get(ref) ?? []), one]);
    }
    for (const series of byModel.values()) {
      const counts = model(series[0].metric);
      this.addHistogram(series, LATENCY_BUCKETS, window, (_i, b, v) => {
        counts.latency[b] += v;
      });
    }
    return [...models.entries()].map(([ref, counts]) => ({
      ref,
      requests: Math.round(counts.requests),
      requestsPerSecond: counts.requests / (length / 1000),
      errorRatio: counts.requests > 0 ? counts.errors / counts.requests : null,
      latencyP95: quantile(0.95, LATENCY_BUCKETS, counts.latency) ?? null,
    }));
  }

  /** The prediction distribution in the range and in the one before it. */
  private async readPredictions(
    request: MetricsRequest,
    s: string,
    data: StepData,
  ) {
    const length = data.to - request.from;
    const windows = (query: string) =>
      this.rangeQuery(query, request.from - length, data.to, length);
    const [numeric, sums, classes] = await Promise.all([
      windows(`${METRICS.predictionValue}_bucket${s}`),
      windows(`${METRICS.predictionValue}_sum${s}`),
      windows(`${METRICS.predictions}${s}`),
    ]);
    const distributionOf = (window: number) =>
      window === 0 ? data.predictions.previous : data.predictions.current;
    const byWindow = (
      series: RangeSeries[],
      add: (one: RangeSeries, window: number, increase: number) => void,
    ) => {
      for (const one of series) {
        counterIncreases(one, request.from - length, length, 2, (w, v) =>
          add(one, w, v),
        );
      }
    };
    // Cumulative `le` buckets per output and window, then per bucket.
    const cumulative = new Map<string, number[]>();
    byWindow(numeric, (one, w, v) => {
      const b = bucketOf(PREDICTION_BUCKETS, one.metric.le ?? '');
      if (b === undefined) return;
      const key = `${w}\n${one.metric.output}`;
      const counts = cumulative.get(key) ?? [];
      counts[b] = (counts[b] ?? 0) + v;
      cumulative.set(key, counts);
    });
    for (const [key, counts] of cumulative) {
      const [w, output] = key.split('\n');
      [...PREDICTION_BUCKETS, Infinity].forEach((le, b) => {
        const count = (counts[b] ?? 0) - (b > 0 ? counts[b - 1] ?? 0 : 0);
        if (count <= 0) return;
        StepData.addPrediction(
          distributionOf(Number(w)),
          output,
          'numeric',
          le === Infinity ? '+Inf' : String(le),
          count,
          0,
        );
      });
    }
    byWindow(sums, (one, w, v) => {
      const output = distributionOf(w).get(one.metric.output ?? '');
      if (output) output.sum += v;
    });
    byWindow(classes, (one, w, v) => {
      StepData.addPrediction(
        distributionOf(w),
        one.metric.output ?? '',
        'class',
        one.metric.value ?? '',
        v,
        0,
      );
    });
  }

  /** Adds a cumulative-`le` histogram's increases per step as per-bucket counts. */
  private addHistogram(
    series: RangeSeries[],
    bounds: readonly number[],
    request: MetricsRequest,
    add: (step: number, bucket: number, count: number) => void,
  ) {
    // Series differ by `le` only in their bucket: group the rest.
    const groups = new Map<string, Map<number, RangeSeries>>();
    for (const one of series) {
      const bucket = bucketOf(bounds, one.metric.le ?? '');
      if (bucket === undefined) continue;
      const { le: _le, ...rest } = one.metric;
      const key = JSON.stringify(Object.entries(rest).sort());
      const group = groups.get(key) ?? new Map<number, RangeSeries>();
      group.set(bucket, one);
      groups.set(key, group);
    }
    for (const group of groups.values()) {
      const cumulative = Array.from(
        { length: bounds.length + 1 },
        () => new Float64Array(request.steps),
      );
      for (const [bucket, one] of group) {
        counterIncreases(
          one,
          request.from,
          request.stepMs,
          request.steps,
          (i, v) => {
            cumulative[bucket][i] += v;
          },
        );
      }
      for (let i = 0; i < request.steps; i++) {
        let below = 0;
        for (let b = 0; b <= bounds.length; b++) {
          const count = cumulative[b][i] - below;
          if (count > 0) add(i, b, count);
          below = Math.max(below, cumulative[b][i]);
        }
      }
    }
  }

  /** A gauge evaluated at each step's end, by step. */
  private gaugeSteps(
    series: RangeSeries,
    request: MetricsRequest,
    set: (step: number, value: number) => void,
  ) {
    for (const [time, text] of series.values) {
      const step =
        Math.round((time * 1000 - request.from) / request.stepMs) - 1;
      const value = Number(text);
      if (step >= 0 && step < request.steps && Number.isFinite(value)) {
        set(step, value);
      }
    }
  }

  private async rangeQuery(
    query: string,
    start: number,
    end: number,
    stepMs: number,
  ): Promise<RangeSeries[]> {
    const result = await this.api('query_range', {
      query,
      start: String(start / 1000),
      end: String(end / 1000),
      step: `${stepMs / 1000}s`,
    });
    return result as RangeSeries[];
  }

  private async api(
    endpoint: 'query' | 'query_range',
    params: Record<string, string>,
  ): Promise<unknown[]> {
    const doFetch = this.options.fetch ?? fetch;
    let response: Response;
    try {
      response = await doFetch(`${this.baseUrl}/api/v1/${endpoint}`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          ...(this.options.token
            ? { Authorization: `Bearer ${this.options.token}` }
            : {}),
        },
        body: new URLSearchParams(params).toString(),
      });
    } catch (error) {
      throw new ServiceUnavailableError(
        `Prometheus at ${this.baseUrl} did not answer: ${
          (error as Error).message
        }`,
      );
    }
    const body = (await response.json().catch(() => undefined)) as
      | { status: string; data?: { result: unknown[] }; error?: string }
      | undefined;
    if (!response.ok || body?.status !== 'success' || !body.data) {
      throw new ServiceUnavailableError(
        `Prometheus at ${this.baseUrl} answered ${response.status}: ${
          body?.error ?? 'no result'
        } (query ${params.query})`,
      );
    }
    return body.data.result;
  }
}
