import { Config } from '@backstage/config';
import { durationMs } from '../platformConfig';
import { LokiSettings } from './LokiPusher';

/** `mlPlatform.logs`, with defaults applied. */
export interface LogsConfig {
  /** Lines are deleted after this. */
  retentionMs: number;
  /** How often buffered lines are written (and pushed to Loki). */
  flushIntervalMs: number;
  /** Lines buffered at most; more are dropped (and counted) until a flush. */
  maxBuffered: number;
  loki?: LokiSettings;
}

export function readLogsConfig(config: Config): LogsConfig {
  const l = config.getOptionalConfig('mlPlatform.logs');
  const url = l?.getOptionalString('loki.url');
  return {
    retentionMs: durationMs(l, 'retention', 14 * 86_400_000),
    flushIntervalMs: durationMs(l, 'flushInterval', 1000),
    maxBuffered: l?.getOptionalNumber('maxBuffered') ?? 50_000,
    loki: url
      ? {
          url,
          tenant: l?.getOptionalString('loki.tenant'),
          token: l?.getOptionalString('loki.token'),
        }
      : undefined,
  };
}
