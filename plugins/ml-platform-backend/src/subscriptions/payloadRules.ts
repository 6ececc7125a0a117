import {
  SubscriptionCondition,
  SubscriptionMapping,
} from '@internal/plugin-ml-platform-common';
import { isDeepStrictEqual } from 'node:util';
import { compiledJsonPath, selectAll, selectFirst } from './jsonPath';

/** Most rows one event may map to. */
export const MAX_ROWS_PER_EVENT = 10_000;

/** Why an event cannot be turned into model input (a dead letter's reason). */
export class PayloadError extends Error {}

function conditionHolds(condition: SubscriptionCondition, payload: unknown) {
  const values = selectAll(compiledJsonPath(condition.path), payload);
  if (condition.exists !== undefined) {
    if ((values.length > 0 && values[0] !== undefined) !== condition.exists) {
      return false;
    }
  }
  if ('equals' in condition && condition.equals !== undefined) {
    if (!values.some(v => isDeepStrictEqual(v, condition.equals))) return false;
  }
  if (condition.in !== undefined) {
    if (!values.some(v => condition.in!.some(c => isDeepStrictEqual(v, c)))) {
      return false;
    }
  }
  return true;
}

/** Whether the payload passes the filter (no filter: every payload does). */
export function passesFilter(
  filter: SubscriptionCondition | SubscriptionCondition[] | undefined,
  payload: unknown,
): boolean {
  if (!filter) return true;
  const conditions = Array.isArray(filter) ? filter : [filter];
  return conditions.every(c => conditionHolds(c, payload));
}

function isRow(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mapRow(
  columns: Record<string, string> | undefined,
  source: unknown,
  where: string,
): Record<string, unknown> {
  if (!columns) {
    if (!isRow(source)) {
      throw new PayloadError(`${where} is not an object of input columns`);
    }
    return source;
  }
  const row: Record<string, unknown> = {};
  for (const [column, path] of Object.entries(columns)) {
    const value = selectFirst(compiledJsonPath(path), source);
    if (value === undefined) {
      throw new PayloadError(
        `mapping.columns.${column}: no value at ${path} in ${where}`,
      );
    }
    row[column] = value;
  }
  return row;
}

/** The model input rows an event maps to, or a PayloadError saying why not. */
export function mapPayload(
  mapping: SubscriptionMapping,
  payload: unknown,
): Record<string, unknown>[] {
  if (!mapping.rows) return [mapRow(mapping.columns, payload, 'the payload')];
  let items = selectAll(compiledJsonPath(mapping.rows), payload);
  // `$.items` names the array itself; `$.items[*]` its elements.
  if (items.length === 1 && Array.isArray(items[0])) items = items[0];
  if (items.length === 0) {
    throw new PayloadError(`mapping.rows: no rows at ${mapping.rows}`);
  }
  if (items.length > MAX_ROWS_PER_EVENT) {
    throw new PayloadError(
      `mapping.rows: ${items.length} rows, more than ${MAX_ROWS_PER_EVENT}`,
    );
  }
  return items.map((item, i) =>
    mapRow(mapping.columns, item, `row ${i} of ${mapping.rows}`),
  );
}
