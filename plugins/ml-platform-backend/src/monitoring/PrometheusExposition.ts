import { parseEntityRef } from '@backstage/catalog-model';
import {
  Counter,
  Gauge,
  Histogram,
  LabelValues,
  Registry,
  Summary,
} from 'prom-client';
import { BuildVersions } from './BuildVersions';
import {
  CALL_LABELS,
  CHUNK_DURATION_BUCKETS,
  CHUNK_OUTCOMES,
  LATENCY_BUCKETS,
  METRICS,
  MODEL_LABELS,
  OUTCOMES,
  PREDICTION_BUCKETS,
} from './metricNames';
import { MetricsRecorder } from './MetricsRecorder';
import { DeploymentHealth, ReplicaSampler } from './ReplicaSampler';

type Labels = LabelValues<string>;

/** A histogram series computed elsewhere: its buckets (not cumulative), sum and count. */
interface HistogramValues {
  labels: Labels;
  buckets: ArrayLike<number>;
  sum: number;
}

type HistogramData = Awaited<ReturnType<Histogram<string>['get']>>;

/**
 * A prom-client histogram whose values come from the recorder's
 * aggregates at scrape time instead of `observe` on the hot path.
 */
class CollectedHistogram extends Histogram<string> {
  private series: HistogramValues[] = [];

  constructor(
    private readonly metricName: string,
    private readonly helpText: string,
    labelNames: readonly string[],
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    super({
      name: metricName,
      help: helpText,
      labelNames,
      buckets: [...bounds],
      registers: [registry],
    });
  }

  set(series: HistogramValues[]) {
    this.series = series;
  }

  /** What the registry prints (it reads histograms through this). */
  async getForPromString() {
    return this.get();
  }

  async get(): Promise<HistogramData> {
    const values = this.series.flatMap(({ labels, buckets, sum }) => {
      let cumulative = 0;
      const lines = [...this.bounds, Infinity].map((le, i) => {
        cumulative += buckets[i] ?? 0;
        return {
          metricName: `${this.metricName}_bucket`,
          labels: { ...labels, le: le === Infinity ? '+Inf' : le },
          value: cumulative,
        };
      });
      return [
        ...lines,
        { metricName: `${this.metricName}_sum`, labels, value: sum },
        { metricName: `${this.metricName}_count`, labels, value: cumulative },
      ];
    });
    // prom-client types `type` as an enum; its own metrics carry this string.
    return {
      name: this.metricName,
      help: this.helpText,
      type: 'histogram',
      aggregator: 'sum',
      values,
    } as unknown as HistogramData;
  }
}

/** A prom-client summary (sum and count, no quantiles) computed elsewhere. */
class CollectedSummary extends Summary<string> {
  private series: { labels: Labels; sum: number; count: number }[] = [];

  constructor(
    private readonly metricName: string,
    help: string,
    labelNames: readonly string[],
    registry: Registry,
  ) {
    super({
      name: metricName,
      help,
      labelNames,
      percentiles: [],
      registers: [registry],
    });
  }

  set(series: { labels: Labels; sum: number; count: number }[]) {
    this.series = series;
  }

  async get() {
    const base = await super.get();
    const values = this.series.flatMap(({ labels, sum, count }) => [
      { metricName: `${this.metricName}_sum`, labels, value: sum },
      { metricName: `${this.metricName}_count`, labels, value: count },
    ]);
    return { ...base, values };
  }
}

export interface PrometheusExpositionOptions {
  /** Absent when monitoring is off: only replicas and in-flight calls. */
  recorder?: MetricsRecorder;
  replicas: ReplicaSampler;
  versions: BuildVersions;
  /** Calls under way now, per deployment. */
  inFlight: () => Iterable<{
    modelRef: string;
    deploymentId: string;
    buildId: string;
    inFlight: number;
  }>;
  /** More metrics of the platform (e.g. subscriptions), exposed alongside. */
  more?: Registry[];
}

/**
 * `GET /api/ml-platform/metrics`: the platform's metrics in the Prometheus
 * text format, built with prom-client from the recorder's totals and the
 * runtime's replicas at each scrape.
 */
export class PrometheusExposition {
  private readonly registry = new Registry();
  private readonly requests: Counter<string>;
  private readonly duration: CollectedHistogram;
  private readonly rows: Counter<string>;
  private readonly inFlight: Gauge<string>;
  private readonly predictionValue: CollectedHistogram;
  private readonly predictions: Counter<string>;
  private readonly kpi: CollectedSummary;
  private readonly replicaReady: Gauge<string>;
  private readonly replicaRestarts: Counter<string>;
  private readonly replicaCpu: Counter<string>;
  private readonly replicaMemory: Gauge<string>;
  private readonly replicasDesired: Gauge<string>;
  private readonly batchRows: Counter<string>;
  private readonly batchChunks: Counter<string>;
  private readonly chunkDuration: CollectedHistogram;

  constructor(private readonly options: PrometheusExpositionOptions) {
    const registers = [this.registry];
    const callLabels = [...CALL_LABELS];
    const modelLabels = [...MODEL_LABELS];
    this.requests = new Counter({
      name: METRICS.requests,
      help: `Calls through the gateway, by outcome (${OUTCOMES.join(', ')})`,
      labelNames: [...callLabels, 'outcome'],
      registers,
    });
    this.duration = new CollectedHistogram(
      METRICS.requestDuration,
      'Duration of calls through the gateway, replica included',
      callLabels,
      LATENCY_BUCKETS,
      this.registry,
    );
    this.rows = new Counter({
      name: METRICS.rows,
      help: 'Rows predicted by successful calls',
      labelNames: callLabels,
      registers,
    });
    this.inFlight = new Gauge({
      name: METRICS.inFlight,
      help: 'Calls under way through the gateway',
      labelNames: modelLabels,
      registers,
    });
    this.predictionValue = new CollectedHistogram(
      METRICS.predictionValue,
      'Numeric prediction values, per output',
      [...modelLabels, 'output'],
      PREDICTION_BUCKETS,
      this.registry,
    );
    this.predictions = new Counter({
      name: METRICS.predictions,
      help: 'Class and boolean predictions, per output and value (capped; the rest is __other__)',
      labelNames: [...modelLabels, 'output', 'value'],
      registers,
    });
    this.kpi = new CollectedSummary(
      METRICS.kpi,
      'Custom KPIs models return in `kpis`: sum and count of values',
      [...modelLabels, 'kpi'],
      this.registry,
    );
    const replicaLabels = [...modelLabels, 'replica'];
    this.replicaReady = new Gauge({
      name: METRICS.replicaReady,
      help: '1 when the replica serves, else 0',
      labelNames: [...replicaLabels, 'state'],
      registers,
    });
    this.replicaRestarts = new Counter({
      name: METRICS.replicaRestarts,
      help: 'Restarts of the replica after its process died',
      labelNames: replicaLabels,
      registers,
    });
    this.replicaCpu = new Counter({
      name: METRICS.replicaCpu,
      help: 'CPU time (user and system) of the replica process',
      labelNames: replicaLabels,
      registers,
    });
    this.replicaMemory = new Gauge({
      name: METRICS.replicaMemory,
      help: 'Resident memory of the replica process',
      labelNames: replicaLabels,
      registers,
    });
    this.replicasDesired = new Gauge({
      name: METRICS.replicasDesired,
      help: 'Replicas the deployment should have',
      labelNames: ['namespace', 'model', 'deployment'],
      registers,
    });
    this.batchRows = new Counter({
      name: METRICS.batchRows,
      help: 'Rows of batch chunk attempts, by outcome',
      labelNames: [...modelLabels, 'outcome'],
      registers,
    });
    this.batchChunks = new Counter({
      name: METRICS.batchChunks,
      help: `Batch chunk attempts, by outcome (${CHUNK_OUTCOMES.join(', ')})`,
      labelNames: [...modelLabels, 'outcome'],
      registers,
    });
    this.chunkDuration = new CollectedHistogram(
      METRICS.batchChunkDuration,
      'Duration of batch chunk attempts',
      modelLabels,
      CHUNK_DURATION_BUCKETS,
      this.registry,
    );
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text, with every value read now. */
  async metrics(): Promise<string> {
    await this.collect();
    const more = this.options.more ?? [];
    if (more.length === 0) return this.registry.metrics();
    return Registry.merge([this.registry, ...more]).metrics();
  }

  private async modelLabels(
    modelRef: string,
    deploymentId: string,
    buildId: string,
  ): Promise<Labels> {
    const { namespace, name } = parseEntityRef(modelRef);
    return {
      namespace,
      model: name,
      version: String(await this.options.versions.get(buildId)),
      deployment: deploymentId,
    };
  }

  private async collect() {
    for (const metric of [
      this.requests,
      this.rows,
      this.inFlight,
      this.predictions,
      this.replicaReady,
      this.replicaRestarts,
      this.replicaCpu,
      this.replicaMemory,
      this.replicasDesired,
      this.batchRows,
      this.batchChunks,
    ]) {
      metric.reset();
    }
    const { recorder } = this.options;
    const durations: HistogramValues[] = [];
    const values: HistogramValues[] = [];
    const kpis: { labels: Labels; sum: number; count: number }[] = [];
    for (const series of recorder?.callTotals() ?? []) {
      const model = await this.modelLabels(
        series.modelRef,
        series.deploymentId,
        series.buildId,
      );
      const labels = {
        ...model,
        route: series.route,
        caller_kind: series.callerKind,
      };
      const c = series.total.counts;
      const errors = {
        caller_error: c.callerErrors,
        model_error: c.modelErrors,
        unavailable: c.unavailable,
        timeout: c.timeouts,
      };
      const failed = Object.values(errors).reduce((n, v) => n + v, 0);
      this.requests.inc({ ...labels, outcome: 'success' }, c.requests - failed);
      for (const [outcome, count] of Object.entries(errors)) {
        if (count > 0) this.requests.inc({ ...labels, outcome }, count);
      }
      this.rows.inc(labels, c.rows);
      durations.push({
        labels,
        buckets: c.latencyBuckets,
        sum: c.latencySum,
      });
      for (const [output, distribution] of series.total.outputs) {
        if (distribution.numeric) {
          values.push({
            labels: { ...model, output },
            buckets: distribution.numeric,
            sum: (distribution.numericSum ?? []).reduce((n, v) => n + v, 0),
          });
        }
        for (const [value, count] of distribution.classes) {
          this.predictions.inc({ ...model, output, value }, count);
        }
      }
      for (const [kpi, { sum, count }] of series.total.kpis) {
        kpis.push({ labels: { ...model, kpi }, sum, count });
      }
    }
    // Several routes and callers share a model's output and KPI series.
    this.predictionValue.set(mergeHistograms(values));
    this.duration.set(durations);
    this.kpi.set(mergeSums(kpis));

    for (const call of this.options.inFlight()) {
      this.inFlight.set(
        await this.modelLabels(call.modelRef, call.deploymentId, call.buildId),
        call.inFlight,
      );
    }

    const chunkDurations: HistogramValues[] = [];
    for (const series of recorder?.batchTotals() ?? []) {
      const labels = await this.modelLabels(
        series.modelRef,
        series.deploymentId,
        series.buildId,
      );
      const c = series.total.counts;
      const failures = {
        bad_input: c.badInput,
        model_error: c.modelErrors,
        io_error: c.ioErrors,
        worker_crashed: c.workerCrashes,
      };
      const failed = Object.values(failures).reduce((n, v) => n + v, 0);
      this.batchChunks.inc(
        { ...labels, outcome: 'success' },
        c.chunks - failed,
      );
      this.batchRows.inc({ ...labels, outcome: 'success' }, c.rows);
      for (const [outcome, count] of Object.entries(failures)) {
        if (count === 0) continue;
        this.batchChunks.inc({ ...labels, outcome }, count);
        this.batchRows.inc(
          { ...labels, outcome },
          series.total.failedRows.get(outcome as keyof typeof failures) ?? 0,
        );
      }
      chunkDurations.push({
        labels,
        buckets: c.durationBuckets,
        sum: c.durationSum,
      });
    }
    this.chunkDuration.set(chunkDurations);

    this.collectReplicas(await this.options.replicas.current());
  }

  private collectReplicas(deployments: DeploymentHealth[]) {
    for (const deployment of deployments) {
      const { namespace, name } = parseEntityRef(deployment.modelRef);
      this.replicasDesired.set(
        { namespace, model: name, deployment: deployment.deploymentId },
        deployment.desiredReplicas,
      );
      for (const replica of deployment.replicas) {
        const labels = {
          namespace,
          model: name,
          version: String(replica.version ?? 0),
          deployment: deployment.deploymentId,
          replica: replica.replicaId,
        };
        this.replicaReady.set(
          { ...labels, state: replica.state },
          replica.ready ? 1 : 0,
        );
        this.replicaRestarts.inc(labels, replica.restarts);
        if (replica.cpuSeconds !== undefined) {
          this.replicaCpu.inc(labels, replica.cpuSeconds);
        }
        if (replica.memoryBytes !== undefined) {
          this.replicaMemory.set(labels, replica.memoryBytes);
        }
      }
    }
  }
}

const labelKey = (labels: Labels) =>
  JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));

function mergeHistograms(series: HistogramValues[]): HistogramValues[] {
  const merged = new Map<string, HistogramValues>();
  for (const s of series) {
    const key = labelKey(s.labels);
    const into = merged.get(key);
    if (!into) {
      merged.set(key, { ...s, buckets: Array.from(s.buckets) });
      continue;
    }
    const buckets = into.buckets as number[];
    for (let i = 0; i < s.buckets.length; i++) buckets[i] += s.buckets[i];
    into.sum += s.sum;
  }
  return [...merged.values()];
}

function mergeSums(
  series: { labels: Labels; sum: number; count: number }[],
): { labels: Labels; sum: number; count: number }[] {
  const merged = new Map<
    string,
    { labels: Labels; sum: number; count: number }
  >();
  for (const s of series) {
    const key = labelKey(s.labels);
    const into = merged.get(key);
    if (into) {
      into.sum += s.sum;
      into.count += s.count;
    } else merged.set(key, { ...s });
  }
  return [...merged.values()];
}
