import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import {
  ModelMetrics,
  ModelTraffic,
} from '@internal/plugin-ml-platform-common';
import { ModelCatalog } from '../services/ModelCatalog';
import {
  MAX_RANGE_DAYS,
  MAX_STEPS,
  defaultStepMs,
  metricsQuery,
  trafficQuery,
} from './metricsQuery';
import { MetricsSource } from './query/MetricsSource';
import { ReplicaSampler } from './ReplicaSampler';
import { z } from 'zod';

export interface MetricsServiceOptions {
  models: ModelCatalog;
  source: MetricsSource;
  replicas: ReplicaSampler;
  clock?: () => number;
}

/**
 * Model health for the API: checks the caller may see the model, cuts the
 * range into steps, reads the configured source (embedded store or
 * Prometheus) and adds the replicas the runtime runs now.
 */
export class MetricsService {
  private readonly clock: () => number;

  constructor(private readonly options: MetricsServiceOptions) {
    this.clock = options.clock ?? Date.now;
  }

  async modelMetrics(
    ref: { namespace: string; name: string },
    query: z.output<typeof metricsQuery>,
    credentials: BackstageCredentials,
  ): Promise<ModelMetrics> {
    const modelRef = stringifyEntityRef({ kind: 'component', ...ref });
    await this.options.models.assertVisible(modelRef, credentials);
    const to = query.to ?? this.clock();
    const from = query.from ?? to - 3_600_000;
    if (!(from < to)) {
      throw new InputError('query.from: expected a time before query.to');
    }
    if (to - from > MAX_RANGE_DAYS * 86_400_000) {
      throw new InputError(
        `query.from: the range is longer than ${MAX_RANGE_DAYS} days`,
      );
    }
    const stepMs = query.step ?? defaultStepMs(to - from);
    // Steps start at multiples of the step, so minutes fall in whole steps.
    const start = Math.floor(from / stepMs) * stepMs;
    const steps = Math.ceil((to - start) / stepMs);
    if (steps > MAX_STEPS) {
      throw new InputError(
        `query.step: ${steps} steps over the range; at most ${MAX_STEPS} (use a longer step)`,
      );
    }
    const data = await this.options.source.read({
      modelRef,
      from: start,
      stepMs,
      steps,
      deploymentId: query.deployment,
      version: query.version,
    });
    const metrics = data.toModelMetrics(this.options.source.type);
    metrics.replicas.current = (await this.options.replicas.current())
      .filter(
        d =>
          d.modelRef === modelRef &&
          (!query.deployment || d.deploymentId === query.deployment),
      )
      .flatMap(d => d.replicas)
      .filter(r => query.version === undefined || r.version === query.version);
    return metrics;
  }

  /** The last window's calls of every model the caller can see. */
  async traffic(
    query: z.output<typeof trafficQuery>,
    credentials: BackstageCredentials,
  ): Promise<ModelTraffic[]> {
    const to = this.clock();
    const windowMs = query.window ?? 3_600_000;
    const [models, traffic] = await Promise.all([
      this.options.models.listModels(credentials),
      this.options.source.traffic(to - windowMs, to),
    ]);
    const byRef = new Map(traffic.map(t => [t.ref, t]));
    return models.map(
      m =>
        byRef.get(m.ref) ?? {
          ref: m.ref,
          requests: 0,
          requestsPerSecond: 0,
          errorRatio: null,
          latencyP95: null,
        },
    );
  }
}
