import {
  DEAD_LETTER_TOPIC,
  PREDICTION_EVENTS_TOPIC,
} from '@internal/plugin-ml-platform-common';
import { z } from 'zod';
import { JsonPathError, parseJsonPath } from './jsonPath';

/** Events-service topic names: letters, digits, `.`, `_`, `-`, `/`, `:`. */
const topic = z
  .string({ error: 'expected a topic name' })
  .regex(/^[A-Za-z0-9][\w.:/-]{0,199}$/, {
    error: 'expected a topic name of letters, digits, . _ - / : (at most 200)',
  });

const jsonPath = z
  .string({ error: 'expected a JSONPath' })
  .superRefine((path, ctx) => {
    try {
      parseJsonPath(path);
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        message:
          error instanceof JsonPathError
            ? error.message
            : 'expected a JSONPath',
      });
    }
  });

/** JSON values a condition compares with: scalars, no nested documents. */
const scalar = z.union([
  z.string().max(1000),
  z.number(),
  z.boolean(),
  z.null(),
]);

const condition = z.strictObject({
  path: jsonPath,
  equals: scalar.optional(),
  in: z.array(scalar).max(100).optional(),
  exists: z.boolean().optional(),
});

const mapping = z
  .strictObject({
    rows: jsonPath.optional(),
    columns: z
      .record(
        z
          .string()
          .regex(/^[\w.-]{1,100}$/, { error: 'expected a column name' }),
        jsonPath,
      )
      .refine(c => Object.keys(c).length <= 500, {
        error: 'expected at most 500 columns',
      })
      .optional(),
  })
  .refine(m => m.rows !== undefined || m.columns !== undefined, {
    error: 'expected rows (an array path), columns (column: path), or both',
  });

/** Topics the platform publishes each prediction on: subscribing would loop. */
const RESERVED_TOPICS = [PREDICTION_EVENTS_TOPIC, DEAD_LETTER_TOPIC];

const notReserved = (t: string) => !RESERVED_TOPICS.includes(t);

const fields = {
  deploymentId: z.string({ error: 'expected a deployment id' }).min(1).max(64),
  topic: topic.refine(notReserved, {
    error:
      'the platform publishes every prediction there: subscribing would loop',
  }),
  filter: z.union([condition, z.array(condition).min(1).max(20)]).optional(),
  mapping,
  outputTopic: topic
    .refine(notReserved, {
      error: 'reserved for the platform',
    })
    .optional(),
  idempotencyKey: jsonPath.optional(),
  enabled: z.boolean().optional(),
};

/** Body of `POST models/{namespace}/{name}/subscriptions`. */
export const createSubscriptionBody = z.strictObject(fields);

/** Body of `PATCH subscriptions/{id}`: `null` clears filter or idempotencyKey. */
export const updateSubscriptionBody = z.strictObject({
  deploymentId: fields.deploymentId.optional(),
  topic: fields.topic.optional(),
  filter: fields.filter.nullable(),
  mapping: mapping.optional(),
  outputTopic: fields.outputTopic,
  idempotencyKey: fields.idempotencyKey.nullable(),
  enabled: fields.enabled,
});

/** Query of `GET subscriptions/{id}/deadletters`. */
export const deadLettersQuery = z.strictObject({
  limit: z.coerce
    .number({ error: 'expected a number from 1 to 500' })
    .int({ error: 'expected a number from 1 to 500' })
    .min(1, { error: 'expected a number from 1 to 500' })
    .max(500, { error: 'expected a number from 1 to 500' })
    .default(50),
});
