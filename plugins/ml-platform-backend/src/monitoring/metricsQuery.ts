import { InputError } from '@backstage/errors';
import { formatIssues } from '@internal/plugin-ml-platform-common';
import { z } from 'zod';

/** Most steps one answer has: a chart needs far fewer, Prometheus allows 11,000. */
export const MAX_STEPS = 5000;
/** Finest step: the embedded store keeps minutes. */
export const MIN_STEP_SECONDS = 10;
/** Longest range, in days. */
export const MAX_RANGE_DAYS = 400;

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/;
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** A time as Prometheus' API takes it: RFC 3339, or Unix seconds. */
const time = z
  .string()
  .transform((value, ctx) => {
    const ms = /^\d+(\.\d+)?$/.test(value)
      ? Number(value) * 1000
      : Date.parse(value);
    if (!Number.isFinite(ms)) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected an RFC 3339 time or Unix seconds',
      });
      return z.NEVER;
    }
    return ms;
  })
  .optional();

/** Query of `GET models/{namespace}/{name}/metrics`. */
export const metricsQuery = z.strictObject({
  from: time,
  to: time,
  /** Seconds, or a duration such as `60s`, `5m`, `1h`. */
  step: z
    .string()
    .transform((value, ctx) => {
      const match = DURATION.exec(value);
      const ms = match ? Number(match[1]) * UNIT_MS[match[2] ?? 's'] : NaN;
      if (!(ms >= MIN_STEP_SECONDS * 1000)) {
        ctx.addIssue({
          code: 'custom',
          message: `expected a duration of at least ${MIN_STEP_SECONDS}s, e.g. 60, 60s, 5m, 1h`,
        });
        return z.NEVER;
      }
      return ms;
    })
    .optional(),
  deployment: z.string().min(1).max(64).optional(),
  version: z.coerce
    .number({ error: 'expected a build version number' })
    .int({ error: 'expected a build version number' })
    .min(1, { error: 'expected a build version number' })
    .optional(),
});

/** Query of `GET models/traffic`. */
export const trafficQuery = z.strictObject({
  window: z
    .string()
    .transform((value, ctx) => {
      const match = DURATION.exec(value);
      const ms = match ? Number(match[1]) * UNIT_MS[match[2] ?? 's'] : NaN;
      if (!(ms >= 60_000 && ms <= 31 * 86_400_000)) {
        ctx.addIssue({
          code: 'custom',
          message: 'expected a duration from 1m to 31d, e.g. 1h',
        });
        return z.NEVER;
      }
      return ms;
    })
    .optional(),
});

/** A readable step: whole minutes or hours where it can. */
const NICE_STEPS_MS = [
  60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000,
  10_800_000, 21_600_000, 43_200_000, 86_400_000,
];

/** The step when none is asked for: about 60 points over the range. */
export function defaultStepMs(rangeMs: number): number {
  const target = rangeMs / 60;
  return NICE_STEPS_MS.find(s => s >= target) ?? NICE_STEPS_MS.at(-1)!;
}

/**
 * A monitoring query, its times and durations read; the 400 names each bad
 * field (`query.step: ...`). The OpenAPI document checks types first; these
 * queries also refuse parameters they do not know.
 */
export function parseQuery<S extends z.ZodType>(
  schema: S,
  query: unknown,
): z.output<S> {
  const result = schema.safeParse(query ?? {});
  if (!result.success) {
    throw new InputError(formatIssues(result.error.issues, 'query').join('; '));
  }
  return result.data;
}
