/**
 * Writes their callers wait for, grouped: the items added in one turn of
 * the event loop, and those added while a write is under way, go to the
 * store in one write, and each caller gets its own item's result. For a
 * path that may answer only once its item is stored (an event acknowledged
 * once it is in the inbox) but where a write per item would cost more than
 * the work itself. Unlike `FlushBuffer`, nothing waits for a timer and
 * nothing is dropped: a failed write fails each of its callers.
 */
export class GroupWrite<T, R> {
  private waiting: Array<{
    item: T;
    resolve(result: R): void;
    reject(error: unknown): void;
  }> = [];
  private scheduled = false;
  private writing = false;
  /** When the last write ended (`performance.now()`). */
  private lastWrite = -Infinity;

  constructor(
    private readonly options: {
      /** Writes a group; one result per item, in order. */
      write(items: T[]): Promise<R[]>;
      /** Items per write at most. */
      maxItems: number;
      /**
       * Under load (the last write ended less than this ago) a group waits
       * this long for more items; after a quiet spell an item is written at
       * once. Trades this much latency for fewer, larger writes when each
       * write has a fixed cost (a SQLite commit). 0: never waits.
       */
      lingerMs?: number;
    },
  ) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.scheduled || this.writing) return;
      this.scheduled = true;
      const start = () => {
        this.scheduled = false;
        void this.drain();
      };
      const linger = this.options.lingerMs ?? 0;
      if (linger > 0 && performance.now() - this.lastWrite < linger) {
        setTimeout(start, linger);
      } else {
        // After the I/O callbacks of this turn: the other requests read
        // with this one join its write.
        setImmediate(start);
      }
    });
  }

  /** One write at a time, until nobody waits. */
  private async drain() {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.waiting.length > 0) {
        const group = this.waiting.splice(0, this.options.maxItems);
        try {
          const results = await this.options.write(group.map(w => w.item));
          group.forEach((w, i) => w.resolve(results[i]));
        } catch (error) {
          for (const w of group) w.reject(error);
        }
        this.lastWrite = performance.now();
      }
    } finally {
      this.writing = false;
    }
  }
}
