/**
 * What a hot path hands over without waiting: items appended in memory and
 * written in batches by a timer, a full batch and the shutdown, one write at
 * a time. Past `maxBuffered` items are dropped and counted, so a slow store
 * costs data, never the caller's memory or latency.
 */
export class FlushBuffer<T> {
  private items: T[] = [];
  private dropped = 0;
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: {
      flushIntervalMs: number;
      maxBuffered: number;
      /** A flush starts as soon as this many items wait. */
      flushSize?: number;
      /** Writes one batch; its errors are its own to report. */
      write(items: T[]): Promise<void>;
      /** Told, at the next flush, how many items did not fit. */
      onDropped(count: number): void;
    },
  ) {}

  push(item: T): void {
    if (this.items.length >= this.options.maxBuffered) {
      this.dropped++;
      return;
    }
    this.items.push(item);
    if (this.items.length === this.options.flushSize) void this.flush();
  }

  start(): void {
    this.timer = setInterval(
      () => void this.flush(),
      this.options.flushIntervalMs,
    );
    this.timer.unref?.();
  }

  /** Stops the timer and writes what is buffered. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Writes what is buffered; flushes run one at a time. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushNow());
    return this.flushing;
  }

  private async flushNow(): Promise<void> {
    if (this.dropped > 0) {
      this.options.onDropped(this.dropped);
      this.dropped = 0;
    }
    if (this.items.length === 0) return;
    const taken = this.items;
    this.items = [];
    await this.options.write(taken);
  }
}
