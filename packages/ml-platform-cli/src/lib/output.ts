import YAML from 'yaml';
import { OutStream } from './io';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** One column of a table: its header and how a row shows in it. */
export interface Column<T> {
  header: string;
  value(row: T): string | number | boolean | undefined | null;
  /** Numbers line up on the right. */
  align?: 'right';
}

/** Tables on a terminal, JSON when piped, unless `-o` says. */
export function defaultFormat(stdout: OutStream): OutputFormat {
  return stdout.isTTY ? 'table' : 'json';
}

/** Rows as a plain text table, headers in capitals, like `kubectl get`. */
export function renderTable<T>(rows: T[], columns: Column<T>[]): string {
  const cells = rows.map(row =>
    columns.map(c => {
      const v = c.value(row);
      return v === undefined || v === null || v === '' ? '-' : String(v);
    }),
  );
  const headers = columns.map(c => c.header.toUpperCase());
  const widths = headers.map((h, i) =>
    Math.max(h.length, ...cells.map(r => r[i].length)),
  );
  const line = (values: string[]) =>
    values
      .map((v, i) =>
        columns[i].align === 'right'
          ? v.padStart(widths[i])
          : v.padEnd(widths[i]),
      )
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...cells.map(line)].join('\n')}\n`;
}

/** What a command prints on stdout, in the chosen format. */
export class Output {
  constructor(
    private readonly stdout: OutStream,
    readonly format: OutputFormat,
  ) {}

  /** `data` as JSON or YAML, or as a table (one object, one row). */
  print<T>(data: T | T[], columns: Column<T>[]) {
    this.printAs(data, Array.isArray(data) ? data : [data], columns);
  }

  /** `data` as JSON or YAML, or `rows` made from it as a table. */
  printAs<T>(data: unknown, rows: T[], columns: Column<T>[]) {
    if (this.format === 'json') {
      this.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    } else if (this.format === 'yaml') {
      this.stdout.write(YAML.stringify(data));
    } else if (rows.length === 0) {
      this.stdout.write('No items.\n');
    } else {
      this.stdout.write(renderTable(rows, columns));
    }
  }

  /**
   * One item of a stream (a log line): the text on a terminal, a JSON line,
   * or an entry of a YAML sequence, so followed output parses as it comes.
   */
  item(data: object, text: string) {
    if (this.format === 'json') {
      this.stdout.write(`${JSON.stringify(data)}\n`);
    } else if (this.format === 'yaml') {
      this.stdout.write(YAML.stringify([data]));
    } else {
      this.stdout.write(`${text}\n`);
    }
  }
}

export const count = (n: number | undefined) =>
  n === undefined ? undefined : n.toLocaleString('en-US');

/** `1m05s`, `12s`, `0.4s` */
export function duration(seconds: number | undefined): string | undefined {
  if (seconds === undefined || !Number.isFinite(seconds)) return undefined;
  if (seconds < 10) return `${Math.max(0, seconds).toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Seconds between two ISO times (or until now). */
export function elapsed(from?: string, to?: string): number | undefined {
  if (!from) return undefined;
  const end = to ? Date.parse(to) : Date.now();
  return (end - Date.parse(from)) / 1000;
}

/** `3.4 MB` */
export function bytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** `2026-11-27 10:31:05` in the local time zone, compact for tables. */
export function when(iso: string | undefined): string | undefined {
  if (!iso) return undefined;
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(
    d.getHours(),
  )}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
