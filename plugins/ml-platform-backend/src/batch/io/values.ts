/**
 * Value conversions shared by sources and sinks: everything a source yields
 * must survive `JSON.stringify` unchanged, and sinks map JSON values to
 * column types.
 */

/** bigint → number when it fits exactly, else its decimal string. */
export function bigintToPlain(value: bigint): number | string {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) &&
    value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value.toString();
}

/**
 * Turns driver/decoder values into JSON-safe primitives: bigint → number
 * (or string when unsafe), Date → ISO string, bytes → base64, NaN/Infinity →
 * null (JSON has neither), nested arrays and objects converted recursively.
 */
export function toPlainValue(value: unknown): unknown {
  if (value === null || value === undefined) {
    return null;
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return bigintToPlain(value);
    case 'object':
      break;
    default:
      return String(value);
  }
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? null : value.toISOString();
  }
  if (value instanceof Uint8Array) {
    return Buffer.from(
      value.buffer,
      value.byteOffset,
      value.byteLength,
    ).toString('base64');
  }
  if (Array.isArray(value)) {
    return value.map(toPlainValue);
  }
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    out[key] = toPlainValue(inner);
  }
  return out;
}

export function toPlainRecord(
  record: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record)) {
    out[key] = toPlainValue(record[key]);
  }
  return out;
}

/** The kinds of values sinks distinguish when choosing column types. */
export type ValueKind = 'boolean' | 'integer' | 'double' | 'text' | 'json';

/** Kind of a JSON value; undefined for null (which fits any column). */
export function kindOf(value: unknown): ValueKind | undefined {
  if (value === null || value === undefined) {
    return undefined;
  }
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isSafeInteger(value) ? 'integer' : 'double';
    case 'string':
      return 'text';
    case 'object':
      return 'json';
    default:
      return 'text';
  }
}

/**
 * The narrowest kind holding both: integers widen to doubles, anything else
 * that disagrees becomes text (a column must never reject a later chunk).
 */
export function mergeKinds(
  a: ValueKind | undefined,
  b: ValueKind | undefined,
): ValueKind | undefined {
  if (!a) return b;
  if (!b || a === b) return a;
  if (
    (a === 'integer' && b === 'double') ||
    (a === 'double' && b === 'integer')
  ) {
    return 'double';
  }
  return 'text';
}

/** Text form of a value: strings as is, objects and arrays as JSON. */
export function toText(value: unknown): string | null {
  if (value === null || value === undefined) {
    return null;
  }
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'object') {
    return JSON.stringify(value);
  }
  return String(value);
}

/** A CSV cell: null is the empty cell. */
export function toCsvCell(value: unknown): string {
  // strings are nearly every cell (CSV sources), so skip the conversions
  if (typeof value === 'string') return value;
  return toText(toPlainValue(value)) ?? '';
}

/**
 * The output columns of one prediction: a dict spreads into its keys, a
 * scalar (or list) is the single column `prediction`.
 */
export function predictionFields(prediction: unknown): Record<string, unknown> {
  if (
    prediction !== null &&
    typeof prediction === 'object' &&
    !Array.isArray(prediction)
  ) {
    return prediction as Record<string, unknown>;
  }
  return { prediction };
}
