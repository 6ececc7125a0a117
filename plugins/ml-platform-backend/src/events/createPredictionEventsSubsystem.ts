import { EventsService } from '@backstage/plugin-events-node';
import { ChunkAttempt } from '../batch/BatchRunner';
import { Gateway } from '../gateway/Gateway';
import { BuildVersions } from '../monitoring/BuildVersions';
import { PlatformCore } from '../subsystems/core';
import { PlatformTask, Subsystem } from '../subsystems/types';
import { readEventsConfig } from './eventsConfig';
import { PredictionEventRecorder } from './PredictionEventRecorder';
import { PredictionEventService } from './PredictionEventService';
import { predictionEventRoutes } from './routes';

/**
 * Prediction events ("BI events"): the recorder on the gateway and the
 * batch runner, its flush (a timer, and on shutdown), the retention task
 * and `GET models/{ns}/{name}/events` (+ export).
 */
export function createPredictionEventsSubsystem(
  core: PlatformCore,
  deps: {
    events: EventsService;
    gateway: Gateway;
    chunkAttempts: {
      onChunkAttempt(listener: (attempt: ChunkAttempt) => void): void;
    };
  },
): Subsystem {
  const { config, logger, stores, models } = core;
  const settings = readEventsConfig(config);
  const service = new PredictionEventService({
    store: stores.predictionEvents,
    models,
  });
  const tasks: PlatformTask[] = [];
  let recorder: PredictionEventRecorder | undefined;
  if (settings.enabled) {
    const versions = new BuildVersions(id => stores.builds.getBuild(id));
    const active = new PredictionEventRecorder({
      settings,
      store: stores.predictionEvents,
      events: deps.events,
      versionOf: buildId => versions.get(buildId),
      logger,
    });
    deps.gateway.onInvocation(call => active.recordCall(call));
    deps.chunkAttempts.onChunkAttempt(attempt => active.recordChunk(attempt));
    tasks.push({
      id: 'ml-platform-prediction-events-retention',
      frequency: { hours: 1 },
      timeout: { minutes: 10 },
      initialDelay: { minutes: 1 },
      fn: async () => {
        const deleted = await stores.predictionEvents.deleteBefore(
          Date.now() - settings.retentionMs,
        );
        if (deleted > 0) {
          logger.info('prediction events past retention deleted', { deleted });
        }
      },
    });
    recorder = active;
  } else {
    logger.info('Prediction events are off (mlPlatform.events.enabled)');
  }
  return {
    name: 'predictionEvents',
    routes: (api, ctx) => predictionEventRoutes(api, ctx, { events: service }),
    tasks,
    // Buffered per instance and written on a timer, like the metrics.
    onStartup: recorder ? [() => recorder!.start()] : [],
    onShutdown: recorder ? [() => recorder!.stop()] : [],
  };
}
