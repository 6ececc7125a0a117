import { LoggerService } from '@backstage/backend-plugin-api';
import { MetricsStore } from '../database/metrics/MetricsStore';
import { HOUR } from '../database/metrics/types';

export interface MetricsRetentionOptions {
  store: MetricsStore;
  /** Minutes older than this are merged into hours. */
  rawMs: number;
  /** Hours older than this are deleted. */
  hourlyMs: number;
  logger: LoggerService;
  clock?: () => number;
}

/**
 * The metrics store's scheduler task: downsamples minutes older than
 * `retention.raw` into hours, and deletes hours older than
 * `retention.hourly`.
 */
export class MetricsRetention {
  private readonly clock: () => number;

  constructor(private readonly options: MetricsRetentionOptions) {
    this.clock = options.clock ?? Date.now;
  }

  async run(): Promise<{ downsampled: number; deleted: number }> {
    const { store, rawMs, hourlyMs, logger } = this.options;
    const now = this.clock();
    const downsampled = await store.downsample(now - rawMs);
    const deleted = await store.deleteBefore(HOUR, now - hourlyMs);
    if (downsampled || deleted) {
      logger.info('metrics retention', { downsampled, deleted });
    }
    return { downsampled, deleted };
  }
}
