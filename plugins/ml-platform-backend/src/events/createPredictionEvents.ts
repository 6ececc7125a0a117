import {
  LifecycleService,
  LoggerService,
  SchedulerService,
} from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { EventsService } from '@backstage/plugin-events-node';
import { Knex } from 'knex';
import { DatabasePredictionEventStore } from '../database/predictionEvents/DatabasePredictionEventStore';
import { PredictionEventStore } from '../database/predictionEvents/PredictionEventStore';
import { Gateway } from '../gateway/Gateway';
import { ChunkAttempt } from '../batch/BatchRunner';
import { ModelCatalog } from '../services/ModelCatalog';
import { readEventsConfig } from './eventsConfig';
import { PredictionEventRecorder } from './PredictionEventRecorder';
import { PredictionEventService } from './PredictionEventService';

/** Prediction events, wired: what other parts plug into. */
export interface PredictionEvents {
  service: PredictionEventService;
  store: PredictionEventStore;
  /** For the batch runner; undefined when events are off. */
  onChunkAttempt?: (attempt: ChunkAttempt) => void;
  recorder?: PredictionEventRecorder;
}

/**
 * Prediction events (BI events): the recorder on the gateway and batch
 * runner, its flush and the retention task, and the routes' service.
 */
export async function createPredictionEvents(options: {
  config: Config;
  logger: LoggerService;
  db: Knex;
  scheduler: SchedulerService;
  lifecycle: LifecycleService;
  events: EventsService;
  gateway: Gateway;
  models: ModelCatalog;
  versionOf(buildId: string): Promise<number>;
}): Promise<PredictionEvents> {
  const { logger, scheduler, lifecycle } = options;
  const settings = readEventsConfig(options.config);
  const store = new DatabasePredictionEventStore(options.db);
  const service = new PredictionEventService({ store, models: options.models });
  if (!settings.enabled) {
    logger.info('Prediction events are off (mlPlatform.events.enabled)');
    return { service, store };
  }
  const recorder = new PredictionEventRecorder({
    settings,
    store,
    events: options.events,
    versionOf: options.versionOf,
    logger,
  });
  options.gateway.onInvocation(call => recorder.recordCall(call));
  recorder.start();
  lifecycle.addShutdownHook(() => recorder.stop());
  await scheduler.scheduleTask({
    id: 'ml-platform-prediction-events-retention',
    frequency: { hours: 1 },
    timeout: { minutes: 10 },
    initialDelay: { minutes: 1 },
    fn: async () => {
      const deleted = await store.deleteBefore(
        Date.now() - settings.retentionMs,
      );
      if (deleted > 0) {
        logger.info('prediction events past retention deleted', { deleted });
      }
    },
  });
  return {
    service,
    store,
    recorder,
    onChunkAttempt: attempt => recorder.recordChunk(attempt),
  };
}
