import { ModelTraffic } from '@internal/plugin-ml-platform-common';
import { MetricsStore } from '../../database/metrics/MetricsStore';
import {
  CallCounts,
  HOUR,
  MINUTE,
  MetricsWindow,
  PredictionSums,
} from '../../database/metrics/types';
import { addCallCounts } from '../aggregates';
import { CHUNK_DURATION_BUCKETS, LATENCY_BUCKETS } from '../metricNames';
import { MetricsRequest, MetricsSource } from './MetricsSource';
import { quantile } from './quantile';
import { StepData } from './StepData';

const HOUR_MS = HOUR * 1000;

export interface EmbeddedMetricsSourceOptions {
  /** `retention.raw`: minute rows exist for this long. */
  rawRetentionMs: number;
  clock?: () => number;
}

/**
 * Model health from the platform's own database: the embedded default.
 * Ranges in whole hours read hour rows only; finer steps read minutes where
 * they are kept and hours before that.
 */
export class EmbeddedMetricsSource implements MetricsSource {
  readonly type = 'embedded';
  private readonly clock: () => number;

  constructor(
    private readonly store: MetricsStore,
    private readonly options: EmbeddedMetricsSourceOptions,
  ) {
    this.clock = options.clock ?? Date.now;
  }

  async read(request: MetricsRequest): Promise<StepData> {
    const data = new StepData(request.from, request.stepMs, request.steps);
    const filters = {
      modelRef: request.modelRef,
      deploymentId: request.deploymentId,
      version: request.version,
    };
    // An hour that starts before `from` still covers part of the range:
    // count steps from whole steps before it, and drop what spreads before 0.
    const lead = Math.ceil(HOUR_MS / request.stepMs);
    const origin = request.from - lead * request.stepMs;
    const windows = this.parts(request.from, data.to, request.stepMs).map(
      part => ({
        ...filters,
        ...part,
        // Hours reach back to the one holding `from`.
        from: part.resolution === HOUR ? origin : part.from,
        origin,
        stepMs: request.stepMs,
      }),
    );
    const each = <T>(read: (w: (typeof windows)[number]) => Promise<T[]>) =>
      Promise.all(windows.map(read)).then(results => results.flat());
    const inRange = { ...filters, from: request.from, to: data.to };
    const length = data.to - request.from;
    const [calls, kpis, batch, replicas, current, previous, series] =
      await Promise.all([
        each(w => this.store.sumCalls(w)),
        each(w => this.store.sumKpis(w)),
        each(w => this.store.sumBatch(w)),
        each(w => this.store.sumReplicas(w)),
        this.predictions(inRange),
        this.predictions({
          ...inRange,
          from: request.from - length,
          to: request.from,
        }),
        this.store.listSeries({ ...inRange, resolution: HOUR }),
      ]);

    const nb = LATENCY_BUCKETS.length + 1;
    for (const row of calls) {
      if (!data.covers(row.step - lead, row.resolution)) continue;
      const byVersion = data.versionRequests(row.version);
      data.spread(row.step - lead, row.resolution, (i, share) => {
        data.requests[i] += row.requests * share;
        byVersion[i] += row.requests * share;
        data.errors.caller_error[i] += row.callerErrors * share;
        data.errors.model_error[i] += row.modelErrors * share;
        data.errors.unavailable[i] += row.unavailable * share;
        data.errors.timeout[i] += row.timeouts * share;
        data.rows[i] += row.rows * share;
        for (let b = 0; b < nb; b++) {
          data.latency[i * nb + b] += row.latencyBuckets[b] * share;
        }
        StepData.max(data.inFlight, i, row.inFlightMax);
      });
    }
    for (const row of kpis) {
      const kpi = data.kpi(row.kpi);
      data.spread(row.step - lead, row.resolution, (i, share) => {
        kpi.sum[i] += row.sum * share;
        kpi.count[i] += row.count * share;
      });
    }
    const nd = CHUNK_DURATION_BUCKETS.length + 1;
    for (const row of batch) {
      data.spread(row.step - lead, row.resolution, (i, share) => {
        data.batchRows[i] += row.rows * share;
        const failed =
          row.badInput + row.modelErrors + row.ioErrors + row.workerCrashes;
        data.batchChunks.success[i] += (row.chunks - failed) * share;
        data.batchChunks.bad_input[i] += row.badInput * share;
        data.batchChunks.model_error[i] += row.modelErrors * share;
        data.batchChunks.io_error[i] += row.ioErrors * share;
        data.batchChunks.worker_crashed[i] += row.workerCrashes * share;
        for (let b = 0; b < nd; b++) {
          data.chunkDurations[i * nd + b] += row.durationBuckets[b] * share;
        }
      });
    }
    // Replica gauges are per backend instance: sum the instances' values.
    for (const row of replicas) {
      data.spread(row.step - lead, row.resolution, (i, share) => {
        data.restarts[i] += row.restarts * share;
        data.cpuSeconds[i] += row.cpuSeconds * share;
        StepData.add(data.memoryBytes, i, row.memoryBytesMax);
        StepData.add(data.readyReplicas, i, row.readyMin);
        StepData.add(data.desiredReplicas, i, row.desiredMax);
      });
    }
    for (const [distribution, rows] of [
      [data.predictions.current, current],
      [data.predictions.previous, previous],
    ] as const) {
      for (const row of rows) {
        StepData.addPrediction(
          distribution,
          row.output,
          row.kind,
          row.bin,
          row.count,
          row.valueSum,
        );
      }
    }
    for (const s of series) {
      data.deployments.add(s.deploymentId);
      data.versions.add(s.version);
    }
    return data;
  }

  async traffic(from: number, to: number): Promise<ModelTraffic[]> {
    const seconds = (to - from) / 1000;
    const models = new Map<string, CallCounts>();
    for (const part of this.parts(from, to, MINUTE * 1000)) {
      for (const m of await this.store.sumCallsByModel(part)) {
        const into = models.get(m.modelRef);
        if (into) addCallCounts(into, m);
        else models.set(m.modelRef, m);
      }
    }
    return [...models.entries()].map(([ref, m]) => {
      const errors =
        m.callerErrors + m.modelErrors + m.unavailable + m.timeouts;
      return {
        ref,
        requests: m.requests,
        requestsPerSecond: m.requests / seconds,
        errorRatio: m.requests > 0 ? errors / m.requests : null,
        latencyP95: quantile(0.95, LATENCY_BUCKETS, m.latencyBuckets) ?? null,
      };
    });
  }

  /**
   * Which rows cover [from, to): hours alone for whole-hour steps, else
   * hours up to where minutes are kept and minutes after.
   */
  private parts(
    from: number,
    to: number,
    stepMs: number,
  ): { from: number; to: number; resolution: number }[] {
    if (stepMs % HOUR_MS === 0 && from % HOUR_MS === 0) {
      return [{ from, to, resolution: HOUR }];
    }
    // Retention deletes minutes of whole hours before now - raw: from this
    // hour on, every minute is still there.
    const minutesFrom =
      Math.ceil((this.clock() - this.options.rawRetentionMs) / HOUR_MS) *
      HOUR_MS;
    const parts = [];
    if (from < minutesFrom) {
      parts.push({ from, to: Math.min(to, minutesFrom), resolution: HOUR });
    }
    if (to > minutesFrom) {
      parts.push({
        from: Math.max(from, minutesFrom),
        to,
        resolution: MINUTE,
      });
    }
    return parts;
  }

  /** Prediction counts over a window, minutes and hours as `parts` says. */
  private async predictions(window: MetricsWindow): Promise<PredictionSums[]> {
    const hourAligned =
      window.from % HOUR_MS === 0 && window.to % HOUR_MS === 0;
    const parts = hourAligned
      ? [{ from: window.from, to: window.to, resolution: HOUR }]
      : this.parts(window.from, window.to, MINUTE * 1000);
    const results = await Promise.all(
      parts.map(part => this.store.sumPredictions({ ...window, ...part })),
    );
    return results.flat();
  }
}
