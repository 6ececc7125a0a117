import { LoggerService } from '@backstage/backend-plugin-api';
import { redactUrlCredentials } from '@internal/plugin-ml-platform-node';
import { BuildStore } from '../database';
import { errorMeta } from '../util/logging';

/**
 * Collects a build's log lines and writes them to the database in batches;
 * masks secrets (and credentials inside URLs) before anything is stored.
 */
export class BuildLog {
  private pending: { step?: string; line: string }[] = [];
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly buildId: string,
    private readonly store: BuildStore,
    private readonly logger: LoggerService,
    private readonly secrets: string[] = [],
    private readonly flushMs = 250,
  ) {}

  write(step: string | undefined, line: string) {
    let masked = redactUrlCredentials(line);
    for (const secret of this.secrets) {
      if (secret && masked.includes(secret)) {
        masked = masked.split(secret).join('***');
      }
    }
    // Keep single lines bounded; a runaway line must not fill the database.
    if (masked.length > 8000) masked = `${masked.slice(0, 8000)} [truncated]`;
    this.pending.push({ step, line: masked });
    if (this.pending.length >= 200) {
      void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.flushMs);
    }
  }

  /** Writes what is pending; resolves when it is stored. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const lines = this.pending;
    this.pending = [];
    this.flushing = this.flushing.then(async () => {
      if (lines.length === 0) return;
      try {
        await this.store.appendBuildLog(this.buildId, lines);
      } catch (error) {
        this.logger.warn('could not store build log lines', {
          buildId: this.buildId,
          lines: lines.length,
          ...errorMeta(error),
        });
      }
    });
    return this.flushing;
  }
}
