/**
 * Conversions between column values and API values, shared by the stores:
 * SQLite and PostgreSQL return timestamps, big integers and NULLs differently.
 */

/** A timestamp column as ISO 8601: SQLite returns epoch numbers, PostgreSQL Dates. */
export function iso(value: Date | number | string): string;
export function iso(
  value: Date | number | string | null | undefined,
): string | undefined;
export function iso(
  value: Date | number | string | null | undefined,
): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) return value.toISOString();
  return new Date(
    typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value,
  ).toISOString();
}

/** An ISO time to write; undefined leaves the column alone. */
export function toDate(value: string | undefined): Date | undefined {
  return value === undefined ? undefined : new Date(value);
}

/** NULL as undefined, so absent fields stay absent in the API. */
export function opt<T>(value: T | null | undefined): T | undefined {
  return value === null ? undefined : value;
}

/** A JSON text column, parsed; NULL is undefined. */
export function fromJson<T>(value: string | null | undefined): T | undefined {
  return value === null || value === undefined
    ? undefined
    : (JSON.parse(value) as T);
}

/** A count or bigint column (PostgreSQL returns bigints as strings). */
export function num(value: number | string | null | undefined): number {
  return Number(value ?? 0);
}

/** Drops undefined keys so knex leaves those columns alone. */
export function defined<T extends object>(row: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(row).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}

/** Runs `query` over slices of `values`, under the databases' parameter limits. */
export async function inSlices<T, R>(
  values: T[],
  query: (slice: T[]) => Promise<R[]>,
  size = 500,
): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < values.length; i += size) {
    results.push(...(await query(values.slice(i, i + size))));
  }
  return results;
}

/** A unique index refused the row (SQLite and PostgreSQL say it differently). */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return (
    e?.code === '23505' ||
    e?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    /UNIQUE constraint failed/.test(e?.message ?? '')
  );
}
