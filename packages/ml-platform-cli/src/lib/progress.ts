import { bytes, count, duration } from './output';
import { OutStream } from './io';

/** How far a long operation got. */
export interface ProgressState {
  done: number;
  total?: number;
  /** Units per second. */
  rate?: number;
  /** Seconds left. */
  eta?: number;
  /** e.g. `running`, `3 chunks failed` */
  note?: string;
}

const BAR_WIDTH = 30;
/** How often a non-terminal gets a progress line. */
const PLAIN_INTERVAL_MS = 5000;

/**
 * `[==========>         ]  52%  5,200/10,000 rows  1,234 rows/s  ETA 4s`:
 * the bar, the share, what is done of what, the rate and the time left.
 */
export function renderProgress(
  state: ProgressState,
  unit: 'rows' | 'bytes',
  width = BAR_WIDTH,
): string {
  const fmt = (n: number) => (unit === 'bytes' ? bytes(n) : count(n)!);
  const parts: string[] = [];
  if (state.total !== undefined && state.total > 0) {
    const share = Math.min(1, state.done / state.total);
    const filled = Math.floor(share * width);
    const head = filled < width ? '>' : '';
    parts.push(
      `[${'='.repeat(filled)}${head}${' '.repeat(
        Math.max(0, width - filled - head.length),
      )}]`,
      `${String(Math.floor(share * 100)).padStart(3)}%`,
      `${fmt(state.done)}/${fmt(state.total)}${unit === 'rows' ? ' rows' : ''}`,
    );
  } else {
    parts.push(`${fmt(state.done)}${unit === 'rows' ? ' rows' : ''}`);
  }
  if (state.rate !== undefined) {
    parts.push(
      unit === 'bytes'
        ? `${bytes(state.rate)}/s`
        : `${count(Math.round(state.rate))} rows/s`,
    );
  }
  if (state.eta !== undefined) parts.push(`ETA ${duration(state.eta)}`);
  if (state.note) parts.push(state.note);
  return parts.join('  ');
}

/**
 * Progress on stderr: a bar redrawn in place on a terminal, a plain line
 * now and then otherwise (logs of CI jobs stay readable).
 */
export class ProgressBar {
  private lastPlainAt = 0;
  private drawn = false;

  constructor(
    private readonly stream: OutStream,
    private readonly label: string,
    private readonly unit: 'rows' | 'bytes' = 'rows',
  ) {}

  update(state: ProgressState) {
    const text = `${this.label} ${renderProgress(state, this.unit)}`;
    if (this.stream.isTTY) {
      const columns = this.stream.columns ?? 80;
      // \r and "erase line": the bar stays on one line however it changes.
      this.stream.write(`\r\x1b[K${text.slice(0, columns - 1)}`);
      this.drawn = true;
      return;
    }
    const now = Date.now();
    if (now - this.lastPlainAt >= PLAIN_INTERVAL_MS) {
      this.lastPlainAt = now;
      this.stream.write(`${text}\n`);
    }
  }

  /** The last state stays visible; the next output starts on a new line. */
  finish(state?: ProgressState) {
    if (state) {
      this.lastPlainAt = 0;
      this.update(state);
    }
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
