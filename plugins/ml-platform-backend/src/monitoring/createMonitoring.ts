import {
  DatabaseService,
  LifecycleService,
  LoggerService,
  SchedulerService,
} from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { Runtime } from '@internal/plugin-ml-platform-node';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { DatabaseMetricsStore } from '../database/metrics/DatabaseMetricsStore';
import { MlPlatformStore } from '../database/MlPlatformStore';
import { ChunkAttempt } from '../batch/BatchRunner';
import { Gateway } from '../gateway/Gateway';
import { ModelCatalog } from '../services/ModelCatalog';
import { BuildVersions } from './BuildVersions';
import { MetricsRecorder } from './MetricsRecorder';
import { MetricsRetention } from './MetricsRetention';
import { MetricsService } from './MetricsService';
import { readMonitoringConfig } from './monitoringConfig';
import { PrometheusExposition } from './PrometheusExposition';
import { EmbeddedMetricsSource } from './query/EmbeddedMetricsSource';
import { MetricsSource } from './query/MetricsSource';
import { PrometheusMetricsSource } from './query/PrometheusMetricsSource';
import { ReplicaSampler } from './ReplicaSampler';
import { HttpSdTargetGroup, listScrapeTargets } from './scrapeTargets';

/** What the HTTP layer needs of monitoring. */
export interface MonitoringRoutes {
  /** `GET metrics` and `GET runtime/scrape-targets` skip credentials. */
  allowUnauthenticatedScrape: boolean;
  exposition: PrometheusExposition;
  metrics: MetricsService;
  scrapeTargets(): Promise<HttpSdTargetGroup[]>;
}

export interface MonitoringOptions {
  config: Config;
  logger: LoggerService;
  database: DatabaseService;
  scheduler: SchedulerService;
  lifecycle: LifecycleService;
  store: MlPlatformStore;
  runtime: Runtime;
  models: ModelCatalog;
  gateway: Gateway;
  /** More metrics exposed at `GET metrics` (e.g. subscriptions). */
  moreMetrics?: Registry[];
}

/** The monitoring subsystem, wired: what other parts plug into. */
export interface Monitoring {
  routes: MonitoringRoutes;
  /** For the batch runner; undefined when monitoring is off. */
  onChunkAttempt?: (attempt: ChunkAttempt) => void;
  /** The recorder; undefined when monitoring is off. */
  recorder?: MetricsRecorder;
}

/**
 * Monitoring: the recorder on the gateway and the batch runner, its flush
 * and retention tasks, the Prometheus exposition, and model health read
 * from the embedded store or, when configured, from Prometheus.
 */
export async function createMonitoring(
  options: MonitoringOptions,
): Promise<Monitoring> {
  const { config, logger, scheduler, lifecycle, store, runtime, gateway } =
    options;
  const settings = readMonitoringConfig(config);
  const metricsStore = await DatabaseMetricsStore.create({
    database: options.database,
  });
  const versions = new BuildVersions(id => store.getBuild(id));
  const models = new Map<string, Promise<string | undefined>>();
  const modelOf = (deploymentId: string) => {
    let modelRef = models.get(deploymentId);
    if (!modelRef) {
      modelRef = store.getDeployment(deploymentId).then(
        d => d?.modelRef,
        () => {
          models.delete(deploymentId); // ask again next time
          return undefined;
        },
      );
      models.set(deploymentId, modelRef);
    }
    return modelRef;
  };
  const replicas = new ReplicaSampler({
    runtime,
    modelOf,
    versions,
    instanceId: randomUUID(),
  });

  let recorder: MetricsRecorder | undefined;
  if (settings.enabled) {
    const active = new MetricsRecorder({
      store: metricsStore,
      versions,
      replicas,
      logger,
      answersReadPerSecond: settings.answersReadPerSecond,
    });
    gateway.onInvocation(invocation => active.recordCall(invocation));
    active.start(settings.flushIntervalMs);
    lifecycle.addShutdownHook(() => active.stop());
    const retention = new MetricsRetention({
      store: metricsStore,
      rawMs: settings.retention.rawMs,
      hourlyMs: settings.retention.hourlyMs,
      logger,
    });
    await scheduler.scheduleTask({
      id: 'ml-platform-metrics-retention',
      frequency: { milliseconds: settings.retention.checkIntervalMs },
      timeout: { minutes: 10 },
      initialDelay: { minutes: 1 },
      fn: async () => {
        await retention.run();
      },
    });
    recorder = active;
  } else {
    logger.info('Model monitoring is off (mlPlatform.monitoring.enabled)');
  }

  const source: MetricsSource = settings.prometheus
    ? new PrometheusMetricsSource(settings.prometheus)
    : new EmbeddedMetricsSource(metricsStore, {
        rawRetentionMs: settings.retention.rawMs,
      });
  return {
    recorder,
    onChunkAttempt: recorder && (attempt => recorder!.recordChunk(attempt)),
    routes: {
      allowUnauthenticatedScrape: settings.allowUnauthenticatedScrape,
      exposition: new PrometheusExposition({
        recorder,
        replicas,
        versions,
        inFlight: () => gateway.callsInFlight(),
        more: options.moreMetrics,
      }),
      metrics: new MetricsService({
        models: options.models,
        source,
        replicas,
      }),
      scrapeTargets: () => listScrapeTargets({ runtime, modelOf, versions }),
    },
  };
}
