import { Config } from '@backstage/config';
import { boundedWholeNumber, durationMs } from '../platformConfig';
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

/** Fewest and most lines held between writes (the memory they take). */
export const MIN_BUFFERED_LINES = 100;
export const MAX_BUFFERED_LINES = 1_000_000;

export function readLogsConfig(config: Config): LogsConfig {
  const l = config.getOptionalConfig('mlPlatform.logs');
  const url = l?.getOptionalString('loki.url');
  return {
    retentionMs: durationMs(l, 'retention', 14 * 86_400_000),
    flushIntervalMs: durationMs(l, 'flushInterval', 1000),
    // 0 or less would drop every line.
    maxBuffered: boundedWholeNumber(
      l,
      'maxBuffered',
      50_000,
      MIN_BUFFERED_LINES,
      MAX_BUFFERED_LINES,
    ),
    loki: url
      ? {
          url,
          tenant: l?.getOptionalString('loki.tenant'),
          token: l?.getOptionalString('loki.token'),
        }
      : undefined,
  };
}
