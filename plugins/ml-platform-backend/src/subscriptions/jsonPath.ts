/**
 * The JSONPath subset subscriptions use: `$` (the payload), `.name`,
 * `['name']` / `["name"]`, `[n]` and `[*]`. Enough to point at a field or
 * an array; no filters or recursion, so a path costs a walk, never a search.
 */
export type PathStep = string | number | '*';

const STEP =
  /^(?:\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[\*\]|\.\*|\['((?:[^'\\]|\\.)*)'\]|\["((?:[^"\\]|\\.)*)"\])/;

/** Longest path accepted, in characters. */
export const MAX_PATH_LENGTH = 256;

export class JsonPathError extends Error {}

/** The steps of a path, or a JsonPathError saying what is wrong. */
export function parseJsonPath(path: string): PathStep[] {
  if (typeof path !== 'string' || !path.startsWith('$')) {
    throw new JsonPathError(
      'expected a JSONPath starting with $, e.g. $.order.id',
    );
  }
  if (path.length > MAX_PATH_LENGTH) {
    throw new JsonPathError(`expected at most ${MAX_PATH_LENGTH} characters`);
  }
  const steps: PathStep[] = [];
  let rest = path.slice(1);
  while (rest.length > 0) {
    const match = STEP.exec(rest);
    if (!match) {
      throw new JsonPathError(
        `unsupported JSONPath at "${rest.slice(
          0,
          20,
        )}": use .name, ['name'], [n] or [*]`,
      );
    }
    if (match[1] !== undefined) steps.push(match[1]);
    else if (match[2] !== undefined) steps.push(Number(match[2]));
    else if (match[3] !== undefined)
      steps.push(match[3].replace(/\\(.)/g, '$1'));
    else if (match[4] !== undefined)
      steps.push(match[4].replace(/\\(.)/g, '$1'));
    else steps.push('*');
    rest = rest.slice(match[0].length);
  }
  return steps;
}

/** Parsed paths by their text; cleared when it holds this many. */
const MAX_PARSED_PATHS = 1000;
const parsedPaths = new Map<string, readonly PathStep[]>();

/**
 * {@link parseJsonPath}, parsed once per path text: a subscription's paths
 * apply to every event it receives. An invalid path throws every time.
 */
export function compiledJsonPath(path: string): readonly PathStep[] {
  let steps = parsedPaths.get(path);
  if (!steps) {
    steps = parseJsonPath(path);
    if (parsedPaths.size >= MAX_PARSED_PATHS) parsedPaths.clear();
    parsedPaths.set(path, steps);
  }
  return steps;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every value the path selects (`[*]` fans out); none when it leads nowhere. */
export function selectAll(
  steps: readonly PathStep[],
  value: unknown,
): unknown[] {
  let current: unknown[] = [value];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of current) {
      if (step === '*') {
        if (Array.isArray(v)) next.push(...v);
        else if (isObject(v)) next.push(...Object.values(v));
      } else if (typeof step === 'number') {
        if (Array.isArray(v) && step < v.length) next.push(v[step]);
      } else if (isObject(v) && Object.hasOwn(v, step)) {
        next.push(v[step]);
      }
    }
    current = next;
  }
  return current;
}

/** The first value the path selects, or undefined. */
export function selectFirst(
  steps: readonly PathStep[],
  value: unknown,
): unknown {
  return selectAll(steps, value)[0];
}
