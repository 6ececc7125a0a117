import {
  redactUrlCredentials,
  Runtime,
} from '@internal/plugin-ml-platform-node';
import { LogSource } from '../database/modelLogs/LogStore';
import { BuildVersions } from '../monitoring/BuildVersions';
import { PlatformCore } from '../subsystems/core';
import { Subsystem } from '../subsystems/types';
import { LogIndex } from './LogIndex';
import { LogSearch } from './LogSearch';
import { readLogsConfig } from './logsConfig';
import { tapDeploymentLogs } from './logTaps';
import { LokiPusher } from './LokiPusher';
import { logRoutes } from './routes';

/** Searchable logs, as the plugin composes them. */
export interface LogsSubsystem extends Subsystem {
  /** Where build, deployment and execution lines go. */
  index: LogIndex;
}

/**
 * Searchable model logs: the index the sources write to (batched; pushed
 * to Loki when `mlPlatform.logs.loki.url` is set), deployment lines from
 * the runtime, the retention task and `GET models/{ns}/{name}/logs`.
 * Build and execution lines are handed in by the plugin (`index.add`).
 */
export function createLogsSubsystem(core: PlatformCore): LogsSubsystem {
  const { config, logger, stores, models } = core;
  const runtime: Runtime = core.runtime;
  const settings = readLogsConfig(config);
  const versions = new BuildVersions(id => stores.builds.getBuild(id));
  const subjectOf = async (source: LogSource, id: string) => {
    if (source === 'build') {
      const build = await stores.builds.getBuild(id);
      return build && { modelRef: build.modelRef, buildId: id };
    }
    const subject =
      source === 'deployment'
        ? await stores.deployments.getDeployment(id)
        : await stores.executions.getExecution(id);
    return subject && { modelRef: subject.modelRef, buildId: subject.buildId };
  };
  // A subject's model and version never change: looked up once.
  const subjects = new Map<
    string,
    Promise<{ modelRef: string; version: number } | undefined>
  >();
  const index = new LogIndex({
    store: stores.modelLogs,
    logger,
    flushIntervalMs: settings.flushIntervalMs,
    maxBuffered: settings.maxBuffered,
    loki: settings.loki && new LokiPusher(settings.loki, logger),
    resolve: (source, id) => {
      const key = `${source}:${id}`;
      let found = subjects.get(key);
      if (!found) {
        found = subjectOf(source, id).then(async s =>
          s
            ? {
                modelRef: s.modelRef,
                version: await versions.get(s.buildId),
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
  if (settings.loki) {
    logger.info('model logs are shipped to Loki', {
      url: redactUrlCredentials(settings.loki.url),
    });
  }
  let untap: (() => void) | undefined;
  return {
    name: 'logs',
    index,
    routes: (api, ctx) =>
      logRoutes(api, ctx, {
        logs: new LogSearch({ store: stores.modelLogs, models }),
      }),
    tasks: [
      {
        id: 'ml-platform-logs-retention',
        frequency: { hours: 1 },
        timeout: { minutes: 10 },
        initialDelay: { minutes: 1 },
        fn: async () => {
          const deleted = await stores.modelLogs.deleteBefore(
            Date.now() - settings.retentionMs,
          );
          if (deleted > 0) {
            logger.info('model log lines past retention deleted', { deleted });
          }
        },
      },
    ],
    onStartup: [
      () => {
        untap = tapDeploymentLogs(runtime, index);
        index.start();
      },
    ],
    onShutdown: [() => untap?.(), () => index.stop()],
  };
}
