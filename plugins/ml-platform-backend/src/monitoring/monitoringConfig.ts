import { Config } from '@backstage/config';
import { durationMs } from '../platformConfig';

/** `mlPlatform.monitoring`, with defaults applied. */
export interface MonitoringConfig {
  /** Off: the gateway and batch runner record nothing (the route answers zeros). */
  enabled: boolean;
  /** How often recorded minutes are written to the store. */
  flushIntervalMs: number;
  /** Answers read per second and series for the prediction distribution. */
  answersReadPerSecond: number;
  retention: {
    /** Minutes are merged into hours after this. */
    rawMs: number;
    /** Hours are deleted after this. */
    hourlyMs: number;
    /** How often the retention task runs. */
    checkIntervalMs: number;
  };
  /** Set: `GET models/{ns}/{name}/metrics` answers from this Prometheus. */
  prometheus?: { baseUrl: string; token?: string };
  /** `GET metrics` and `GET runtime/scrape-targets` without credentials. */
  allowUnauthenticatedScrape: boolean;
}

const DAY_MS = 86_400_000;

export function readMonitoringConfig(config: Config): MonitoringConfig {
  const m = config.getOptionalConfig('mlPlatform.monitoring');
  const baseUrl = m?.getOptionalString('prometheus.baseUrl');
  return {
    enabled: m?.getOptionalBoolean('enabled') ?? true,
    flushIntervalMs: durationMs(m, 'flushInterval', 10_000),
    answersReadPerSecond: m?.getOptionalNumber('answersReadPerSecond') ?? 100,
    retention: {
      rawMs: durationMs(m, 'retention.raw', 2 * DAY_MS),
      hourlyMs: durationMs(m, 'retention.hourly', 90 * DAY_MS),
      checkIntervalMs: durationMs(m, 'retention.checkInterval', 10 * 60_000),
    },
    prometheus: baseUrl
      ? { baseUrl, token: m?.getOptionalString('prometheus.token') }
      : undefined,
    allowUnauthenticatedScrape:
      m?.getOptionalBoolean('scrape.allowUnauthenticated') ?? false,
  };
}
