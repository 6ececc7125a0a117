import { z } from 'zod';

const positiveInt = (what = 'a positive integer') =>
  z
    .number({ error: `expected ${what}` })
    .int({ error: `expected ${what}` })
    .positive({ error: `expected ${what}` });

const nonNegativeInt = () =>
  z
    .number({ error: 'expected a non-negative integer' })
    .int({ error: 'expected a non-negative integer' })
    .min(0, { error: 'expected a non-negative integer' });

/** Column types the runtime coerces CSV and form input to. @public */
export const manifestFieldTypes = [
  'double',
  'integer',
  'string',
  'boolean',
] as const;

const fieldSchema = z.object({
  name: z
    .string({ error: 'expected a name' })
    .regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, {
      error: 'expected a name of letters, digits, "_", "." or "-"',
    }),
  type: z.enum(manifestFieldTypes, {
    error: `expected one of ${manifestFieldTypes.join(', ')}`,
  }),
  description: z.string().optional(),
  required: z.boolean({ error: 'expected true or false' }).optional(),
});

const onlineSchema = z
  .object({
    replicas: nonNegativeInt().default(1),
    minReplicas: nonNegativeInt().optional(),
    maxReplicas: positiveInt().optional(),
  })
  .superRefine((online, ctx) => {
    const min = online.minReplicas ?? Math.min(online.replicas, 1);
    const max = online.maxReplicas ?? Math.max(online.replicas, 1);
    if (min > max) {
      ctx.addIssue({
        code: 'custom',
        path: ['minReplicas'],
        message: `must not exceed maxReplicas (${max})`,
      });
    }
    if (online.replicas > max) {
      ctx.addIssue({
        code: 'custom',
        path: ['replicas'],
        message: `must not exceed maxReplicas (${max})`,
      });
    }
  });

// Five (or six, with seconds) space-separated cron fields.
const cronPattern = /^(\S+\s+){4,5}\S+$/;

const batchSchema = z.object({
  chunkSize: positiveInt().default(1000),
  parallelism: positiveInt().default(2),
  maxRetries: nonNegativeInt().default(3),
  schedule: z
    .string()
    .regex(cronPattern, {
      error: 'expected a cron expression like "0 3 * * *"',
    })
    .optional(),
});

/**
 * What a model's `predict` receives: `records` (a list of dicts), `dataframe`
 * (a pandas DataFrame of the schema's inputs) or `ndarray` (a 2-D numpy array
 * in the schema's input order). @public
 */
export const modelInterfaces = ['records', 'dataframe', 'ndarray'] as const;

/** @public */
export type ModelInterface = (typeof modelInterfaces)[number];

/** Comparison operators of alert rules. @public */
export const alertOperators = ['>', '>=', '<', '<=', '=='] as const;

const alertSchema = z.object({
  name: z.string({ error: 'expected a name' }).min(1),
  metric: z.string({ error: 'expected a metric name' }).min(1),
  op: z.enum(alertOperators, {
    error: `expected one of ${alertOperators.join(' ')}`,
  }),
  threshold: z.number({ error: 'expected a number' }),
  for: z
    .string()
    .regex(/^\d+(ms|s|m|h)$/, {
      error: 'expected a duration like 30s, 5m or 1h',
    })
    .default('5m'),
  severity: z
    .enum(['info', 'warning', 'critical'], {
      error: 'expected info, warning or critical',
    })
    .default('warning'),
});

/**
 * The `mlmodel.yaml` every model repository holds. One schema for the
 * backend (build validation), the frontend (the "try it" form) and editors
 * (the exported JSON Schema).
 *
 * @public
 */
export const mlModelManifestSchema = z.object({
  apiVersion: z.literal('ml-platform/v1', {
    error: 'expected "ml-platform/v1"',
  }),
  kind: z.literal('Model', { error: 'expected "Model"' }),
  metadata: z
    .object({ name: z.string().optional(), description: z.string().optional() })
    .optional(),
  spec: z.object(
    {
      runtime: z.literal('python', { error: 'expected "python"' }),
      entrypoint: z
        .string({ error: 'expected "module:Class"' })
        .regex(/^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*$/, {
          error: 'expected "module:Class", e.g. "model:Model"',
        }),
      interface: z
        .enum(modelInterfaces, {
          error: `expected one of ${modelInterfaces.join(', ')}`,
        })
        .default('records'),
      python: z
        .string({ error: 'expected an interpreter' })
        .regex(/^(\/[A-Za-z0-9._+-]+)+$|^python3(\.\d+)?$/, {
          error:
            'expected an absolute path or python3[.N], e.g. "/usr/bin/python3"',
        })
        .optional(),
      requirements: z.string().optional(),
      tests: z.string().optional(),
      sample: z.string().optional(),
      schema: z
        .object({
          inputs: z
            .array(fieldSchema)
            .min(1, { error: 'expected at least one input' }),
          outputs: z.array(fieldSchema).default([]),
        })
        .optional(),
      online: onlineSchema.optional(),
      batch: batchSchema.optional(),
      monitoring: z
        .object({ alerts: z.array(alertSchema).default([]) })
        .optional(),
    },
    { error: 'expected an object' },
  ),
});

/** A validated model manifest, defaults applied. @public */
export type MlModelManifest = z.output<typeof mlModelManifestSchema>;

/** One input or output column of a model. @public */
export type ManifestField = z.output<typeof fieldSchema>;

/** An alert rule from the manifest. @public */
export type ManifestAlertRule = z.output<typeof alertSchema>;
