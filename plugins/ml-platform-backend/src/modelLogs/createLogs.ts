import {
  LifecycleService,
  LoggerService,
  SchedulerService,
} from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { redactUrlCredentials } from '@internal/plugin-ml-platform-node';
import { Knex } from 'knex';
import { DatabaseLogStore } from '../database/modelLogs/DatabaseLogStore';
import { LogSource } from '../database/modelLogs/LogStore';
import { ModelCatalog } from '../services/ModelCatalog';
import { LogIndex } from './LogIndex';
import { LogSearch } from './LogSearch';
import { readLogsConfig } from './logsConfig';
import { LokiPusher } from './LokiPusher';

/** Searchable logs, wired: the index sources write to, the routes' search. */
export interface ModelLogs {
  index: LogIndex;
  search: LogSearch;
}

/**
 * Searchable model logs: the index (batched writes, Loki when
 * `mlPlatform.logs.loki.url` is set) and the retention task.
 */
export async function createLogs(options: {
  config: Config;
  logger: LoggerService;
  db: Knex;
  scheduler: SchedulerService;
  lifecycle: LifecycleService;
  models: ModelCatalog;
  /** The model and build id of a build, deployment or execution. */
  subjectOf(
    source: LogSource,
    id: string,
  ): Promise<{ modelRef: string; buildId: string } | undefined>;
  versionOf(buildId: string): Promise<number>;
}): Promise<ModelLogs> {
  const { logger } = options;
  const settings = readLogsConfig(options.config);
  const store = new DatabaseLogStore(options.db);
  // A subject's model and version never change: looked up once.
  const subjects = new Map<
    string,
    Promise<{ modelRef: string; version: number } | undefined>
  >();
  const index = new LogIndex({
    store,
    logger,
    flushIntervalMs: settings.flushIntervalMs,
    maxBuffered: settings.maxBuffered,
    loki: settings.loki && new LokiPusher(settings.loki, logger),
    resolve: (source, id) => {
      const key = `${source}:${id}`;
      let found = subjects.get(key);
      if (!found) {
        found = options.subjectOf(source, id).then(async s =>
          s
            ? {
                modelRef: s.modelRef,
                version: await options.versionOf(s.buildId),
              }
            : undefined,
        );
        found.then(
          s => !s && subjects.delete(key),
          () => subjects.delete(key),
        );
        subjects.set(key, found);
      }
      return found;
    },
  });
  index.start();
  options.lifecycle.addShutdownHook(() => index.stop());
  await options.scheduler.scheduleTask({
    id: 'ml-platform-logs-retention',
    frequency: { hours: 1 },
    timeout: { minutes: 10 },
    initialDelay: { minutes: 1 },
    fn: async () => {
      const deleted = await store.deleteBefore(
        Date.now() - settings.retentionMs,
      );
      if (deleted > 0)
        logger.info('model log lines past retention deleted', { deleted });
    },
  });
  if (settings.loki) {
    logger.info('model logs are shipped to Loki', {
      url: redactUrlCredentials(settings.loki.url),
    });
  }
  return { index, search: new LogSearch({ store, models: options.models }) };
}
