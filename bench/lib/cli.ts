// What the TypeScript benchmark scripts share: their options and medians.

/** The value of `--name`; `fallback` when it is absent, else an error. */
export function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && process.argv[i + 1]) return process.argv[i + 1];
  if (fallback === undefined) throw new Error(`--${name} is required`);
  return fallback;
}

/** The median; of an even count, the mean of the two middle values. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** `--name` as a commit id: hex only, so git never reads it as an option. */
export function commitArg(name: string): string {
  const value = arg(name);
  if (!/^[0-9a-f]{7,40}$/.test(value)) {
    throw new Error(`--${name} must be a commit id (7-40 hex digits)`);
  }
  return value;
}

/** `--name` as a whole number from 1 to 1000. */
export function countArg(name: string, fallback: number): number {
  const value = Number(arg(name, String(fallback)));
  if (!Number.isInteger(value) || value < 1 || value > 1000) {
    throw new Error(`--${name} must be a whole number from 1 to 1000`);
  }
  return value;
}
