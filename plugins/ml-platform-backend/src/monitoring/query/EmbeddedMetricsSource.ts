import { ModelTraffic } from '@internal/plugin-ml-platform-common';
import { MetricsStore } from '../../database/metrics/MetricsStore';
import { CHUNK_DURATION_BUCKETS, LATENCY_BUCKETS } from '../metricNames';
import { MetricsRequest, MetricsSource } from './MetricsSource';
import { quantile } from './quantile';
import { StepData } from './StepData';

/** Model health from the platform's own database: the embedded default. */
export class EmbeddedMetricsSource implements MetricsSource {
  readonly type = 'embedded';

  constructor(private readonly store: MetricsStore) {}

  async read(request: MetricsRequest): Promise<StepData> {
    const data = new StepData(request.from, request.stepMs, request.steps);
    const filters = {
      modelRef: request.modelRef,
      deploymentId: request.deploymentId,
      version: request.version,
    };
    // A downsampled hour that starts before `from` still covers part of the
    // range: read whole steps before it too, and drop what spreads before 0.
    const lead = Math.ceil(3600_000 / request.stepMs);
    const window = {
      ...filters,
      from: request.from - lead * request.stepMs,
      to: data.to,
      stepMs: request.stepMs,
    };
    const inRange = { ...filters, from: request.from, to: data.to };
    const length = data.to - request.from;
    const [calls, kpis, batch, replicas, current, previous, series] =
      await Promise.all([
        this.store.sumCalls(window),
        this.store.sumKpis(window),
        this.store.sumBatch(window),
        this.store.sumReplicas(window),
        this.store.sumPredictions(inRange),
        this.store.sumPredictions({
          ...inRange,
          from: request.from - length,
          to: request.from,
        }),
        this.store.listSeries(inRange),
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
    return (await this.store.sumCallsByModel({ from, to })).map(m => {
      const errors = m.callerErrors + m.modelErrors + m.unavailable + m.timeouts;
      return {
        ref: m.modelRef,
        requests: m.requests,
        requestsPerSecond: m.requests / seconds,
        errorRatio: m.requests > 0 ? errors / m.requests : null,
        latencyP95: quantile(0.95, LATENCY_BUCKETS, m.latencyBuckets) ?? null,
      };
    });
  }
}
