import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { ChunkAttempt } from '../batch/BatchRunner';
import { Gateway } from '../gateway/Gateway';
import { PlatformCore } from '../subsystems/core';
import { PlatformTask, Subsystem } from '../subsystems/types';
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
import { SCRAPE_PATHS, monitoringRoutes } from './routes';
import { listScrapeTargets } from './scrapeTargets';

/** Monitoring, as the plugin composes it. */
export interface MonitoringSubsystem extends Subsystem {
  /** The recorder; undefined when monitoring is off. */
  recorder?: MetricsRecorder;
  /** Paths to let past Backstage's credentials barrier (scrapes). */
  unauthenticatedPaths: string[];
  /** Where model health is read: the embedded store, or Prometheus. */
  source: MetricsSource;
}

/**
 * Monitoring: the recorder on the gateway and the batch runner, its flush
 * (on a timer, and on shutdown) and retention task, the Prometheus
 * exposition, and model health read from the embedded store or, when
 * configured, from Prometheus.
 */
export function createMonitoringSubsystem(
  core: PlatformCore,
  deps: {
    /** The calls to record. */
    gateway: Gateway;
    /** The batch chunk attempts to record. */
    chunkAttempts: {
      onChunkAttempt(listener: (attempt: ChunkAttempt) => void): void;
    };
    /** More metrics exposed at `GET metrics` (e.g. subscriptions). */
    moreMetrics?: Registry[];
  },
): MonitoringSubsystem {
  const { config, logger, stores, runtime, models } = core;
  const { gateway } = deps;
  const settings = readMonitoringConfig(config);
  const versions = new BuildVersions(id => stores.builds.getBuild(id));
  const modelRefs = new Map<string, Promise<string | undefined>>();
  const modelOf = (deploymentId: string) => {
    let modelRef = modelRefs.get(deploymentId);
    if (!modelRef) {
      modelRef = stores.deployments.getDeployment(deploymentId).then(
        d => d?.modelRef,
        () => {
          modelRefs.delete(deploymentId); // ask again next time
          return undefined;
        },
      );
      modelRefs.set(deploymentId, modelRef);
    }
    return modelRef;
  };
  const replicas = new ReplicaSampler({
    runtime,
    modelOf,
    versions,
    instanceId: randomUUID(),
  });

  const tasks: PlatformTask[] = [];
  let recorder: MetricsRecorder | undefined;
  if (settings.enabled) {
    recorder = new MetricsRecorder({
      store: stores.metrics,
      versions,
      replicas,
      logger,
      answersReadPerSecond: settings.answersReadPerSecond,
    });
    const active = recorder;
    gateway.onInvocation(invocation => active.recordCall(invocation));
    deps.chunkAttempts.onChunkAttempt(attempt => active.recordChunk(attempt));
    const retention = new MetricsRetention({
      store: stores.metrics,
      rawMs: settings.retention.rawMs,
      hourlyMs: settings.retention.hourlyMs,
      logger,
    });
    tasks.push({
      id: 'ml-platform-metrics-retention',
      frequency: { milliseconds: settings.retention.checkIntervalMs },
      timeout: { minutes: 10 },
      initialDelay: { minutes: 1 },
      fn: async () => {
        await retention.run();
      },
    });
  } else {
    logger.info('Model monitoring is off (mlPlatform.monitoring.enabled)');
  }

  const source: MetricsSource = settings.prometheus
    ? new PrometheusMetricsSource(settings.prometheus)
    : new EmbeddedMetricsSource(stores.metrics, {
        rawRetentionMs: settings.retention.rawMs,
      });
  const services = {
    allowUnauthenticatedScrape: settings.allowUnauthenticatedScrape,
    exposition: new PrometheusExposition({
      recorder,
      replicas,
      versions,
      inFlight: () => gateway.callsInFlight(),
      more: deps.moreMetrics,
    }),
    metrics: new MetricsService({ models, source, replicas }),
    scrapeTargets: () => listScrapeTargets({ runtime, modelOf, versions }),
  };
  return {
    name: 'monitoring',
    recorder,
    source,
    unauthenticatedPaths: settings.allowUnauthenticatedScrape
      ? SCRAPE_PATHS
      : [],
    routes: (api, ctx) => monitoringRoutes(api, ctx, services),
    tasks,
    // Minutes are held per backend instance: each flushes its own, on a
    // timer (the reconciler's way), not a cluster-wide scheduler task.
    onStartup: recorder
      ? [() => recorder!.start(settings.flushIntervalMs)]
      : [],
    // Writes what it holds, once the calls and chunks it records have ended.
    onShutdown: recorder ? [() => recorder!.stop()] : [],
  };
}
