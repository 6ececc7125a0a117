import { z } from 'zod';

/** A time: RFC 3339, or epoch milliseconds. */
export const timeParam = z
  .string()
  .transform((value, ctx) => {
    const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
    if (!Number.isFinite(ms)) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected an RFC 3339 time or epoch milliseconds',
      });
      return z.NEVER;
    }
    return ms;
  })
  .optional();

/** Longest page of `GET models/{ns}/{name}/events`. */
export const MAX_EVENTS_PAGE = 1000;

const filters = {
  from: timeParam,
  to: timeParam,
  status: z
    .string()
    .regex(/^([1-5]\d\d|[1-5]xx|error)$/, {
      error: 'expected a status code, a class such as 5xx, or error',
    })
    .optional(),
  version: z.coerce
    .number({ error: 'expected a build version number' })
    .int({ error: 'expected a build version number' })
    .min(0, { error: 'expected a build version number' })
    .optional(),
  caller: z.string().min(1).max(255).optional(),
  trigger: z
    .enum(['http', 'event', 'batch'], {
      error: 'expected http, event or batch',
    })
    .optional(),
};

/** Query of `GET models/{namespace}/{name}/events`. */
export const listEventsQuery = z.strictObject({
  ...filters,
  limit: z.coerce
    .number({ error: `expected a number from 1 to ${MAX_EVENTS_PAGE}` })
    .int({ error: `expected a number from 1 to ${MAX_EVENTS_PAGE}` })
    .min(1, { error: `expected a number from 1 to ${MAX_EVENTS_PAGE}` })
    .max(MAX_EVENTS_PAGE, {
      error: `expected a number from 1 to ${MAX_EVENTS_PAGE}`,
    })
    .default(100),
  cursor: z
    .string()
    .max(400)
    .regex(/^[A-Za-z0-9_-]+$/, { error: 'expected a cursor from a page' })
    .optional(),
});

/** Query of `GET models/{namespace}/{name}/events/export`. */
export const exportEventsQuery = z.strictObject({
  ...filters,
  format: z
    .enum(['jsonl', 'csv'], { error: 'expected jsonl or csv' })
    .default('jsonl'),
});
