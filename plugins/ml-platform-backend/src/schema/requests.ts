import { SIZE_RANGES, TEXT_LIMITS } from '@internal/plugin-ml-platform-common';
import { CronTime } from 'cron';
import { z } from 'zod';

/** Text of at most `TEXT_LIMITS[field]` characters; the bound is checked first. */
const text = (field: keyof typeof TEXT_LIMITS, error: string) =>
  z.string({ error }).max(TEXT_LIMITS[field], {
    error: `expected at most ${TEXT_LIMITS[field]} characters`,
    abort: true,
  });

const relativePath = (field: 'gitPath' | 'manifestPath') =>
  text(field, 'expected a relative path inside the repository').refine(
    p =>
      !p.startsWith('/') &&
      !p.startsWith('-') &&
      !p.split('/').includes('..') &&
      // eslint-disable-next-line no-control-regex
      !/[\x00-\x1f\x7f]/.test(p),
    { error: 'expected a relative path inside the repository' },
  );

/** A branch name; `git check-ref-format` has the last word in the service. */
const branchName = text('branch', 'expected a branch name').regex(
  /^(?!-)[\w./-]+$/,
  { error: 'expected a branch name' },
);

/** A cron expression the scheduler can run: parsed, not pattern-matched. */
const cronExpression = text(
  'schedule',
  'expected a cron expression like "0 3 * * *"',
).superRefine((expression, ctx) => {
  const problem = /^(\S+\s+){4,5}\S+$/.test(expression)
    ? cronProblem(expression)
    : 'expected 5 fields (or 6 with seconds)';
  if (problem) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a cron expression like "0 3 * * *": ${problem}`,
    });
  }
});

/** Why the scheduler could not run a cron expression, or undefined. */
export function cronProblem(expression: string): string | undefined {
  try {
    new CronTime(expression).getNextDateFrom(new Date());
    return undefined;
  } catch (error) {
    return String((error as Error).message ?? error)
      .split('\n')[0]
      .slice(0, 200);
  }
}

/** Body of `POST models/{namespace}/{name}/register`. */
export const registerModelBody = z.strictObject({
  gitUrl: text('gitUrl', 'expected a Git clone URL')
    .min(1, { error: 'expected a Git clone URL' })
    .optional(),
  gitPath: relativePath('gitPath').optional(),
  defaultBranch: branchName.optional(),
  manifestPath: relativePath('manifestPath').optional(),
});

/** Body of `POST models/{namespace}/{name}/builds`. */
export const createBuildBody = z.strictObject({
  branch: branchName.optional(),
  commit: z
    .string({ error: 'expected a commit SHA' })
    .regex(/^[0-9a-fA-F]{7,64}$/, {
      error: 'expected a commit SHA (7 to 64 hex digits)',
    })
    .optional(),
});

const integerParam = (min: number, max: number) =>
  z.coerce
    .number({ error: `expected an integer from ${min} to ${max}` })
    .int({ error: `expected an integer from ${min} to ${max}` })
    .min(min, { error: `expected an integer from ${min} to ${max}` })
    .max(max, { error: `expected an integer from ${min} to ${max}` });

/** Query of `GET models/{namespace}/{name}/builds`. */
export const listBuildsQuery = z.object({
  limit: integerParam(1, 200).default(20),
  offset: integerParam(0, 1_000_000).default(0),
});

/** Query of `GET models/{ns}/{name}/activity`: pages like the builds. */
export const listActivityQuery = listBuildsQuery;

/** Query of `GET builds/{id}/logs`. */
export const buildLogsQuery = z.object({
  follow: z
    .enum(['true', 'false'], { error: 'expected true or false' })
    .optional(),
  after: integerParam(0, Number.MAX_SAFE_INTEGER).optional(),
  format: z
    .enum(['text', 'json'], { error: 'expected text or json' })
    .default('text'),
});

const count = (what: string, min: number) =>
  z
    .number({ error: `expected ${what}` })
    .int({ error: `expected ${what}` })
    .min(min, { error: `expected ${what}` });

/** A size field of deployments and executions, within its shared bounds. */
const size = (field: keyof typeof SIZE_RANGES) => {
  const { min, max } = SIZE_RANGES[field];
  return count(min === 0 ? 'a non-negative integer' : 'a positive integer', min)
    .max(max, { error: `expected at most ${max}` })
    .optional();
};

/** Replica counts, set on creation and changed by `PATCH`. */
const replicaFields = {
  replicas: size('replicas'),
  minReplicas: size('minReplicas'),
  maxReplicas: size('maxReplicas'),
};

const dataFormat = z.enum(['csv', 'jsonl', 'parquet'], {
  error: 'expected csv, jsonl or parquet',
});
const connectionName = text(
  'connection',
  'expected the name of a connection in mlPlatform.batch.connections',
).min(1, {
  error: 'expected the name of a connection in mlPlatform.batch.connections',
});

/** Where a batch execution reads its rows. */
export const executionInput = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('upload'),
      uploadId: z.uuid({ error: 'expected the id of an upload' }),
      format: dataFormat.optional(),
    }),
    z.strictObject({
      type: z.literal('path'),
      path: text('inputPath', 'expected a file path').min(1, {
        error: 'expected a file path',
      }),
      format: dataFormat.optional(),
    }),
    z.strictObject({
      type: z.literal('url'),
      url: text('url', 'expected an http(s) URL').pipe(
        z.url({ error: 'expected an http(s) URL' }),
      ),
      format: dataFormat.optional(),
    }),
    z.strictObject({
      type: z.literal('sql'),
      connection: connectionName,
      query: text('query', 'expected a SELECT query').min(1, {
        error: 'expected a SELECT query',
      }),
    }),
  ],
  { error: 'expected an input of type upload, path, url or sql' },
);

/** Where a batch execution writes its predictions. */
export const executionOutput = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('file'), format: dataFormat }),
    z.strictObject({
      type: z.literal('table'),
      connection: connectionName,
      table: text('table', 'expected a table name').min(1, {
        error: 'expected a table name',
      }),
    }),
  ],
  { error: 'expected an output of type file or table' },
);

/** Body of `POST models/{namespace}/{name}/deployments`. */
export const createDeploymentBody = z.strictObject({
  buildId: z.uuid({ error: 'expected the id of a build' }),
  type: z.enum(['online', 'batch'], { error: 'expected online or batch' }),
  ...replicaFields,
  batch: z
    .strictObject({
      chunkSize: size('chunkSize'),
      parallelism: size('parallelism'),
      maxRetries: size('maxRetries'),
      schedule: cronExpression.optional(),
      input: executionInput.optional(),
      output: executionOutput.optional(),
    })
    .refine(b => !b.schedule || (b.input && b.output), {
      error: 'a schedule needs the input and output its executions use',
      path: ['schedule'],
    })
    .optional(),
});

/** Body of `POST models/{namespace}/{name}/executions`. */
export const createExecutionBody = z.strictObject({
  deploymentId: z
    .uuid({ error: 'expected the id of a batch deployment' })
    .optional(),
  buildId: z.uuid({ error: 'expected the id of a build' }).optional(),
  input: executionInput,
  output: executionOutput,
  chunkSize: size('chunkSize'),
  parallelism: size('parallelism'),
  maxRetries: size('maxRetries'),
});

/** Query of `GET executions/{id}/chunks`. */
export const listChunksQuery = z.object({
  status: z
    .enum(['pending', 'running', 'succeeded', 'failed', 'cancelled'], {
      error: 'expected pending, running, succeeded, failed or cancelled',
    })
    .optional(),
});

/** Query of `POST models/{namespace}/{name}/uploads`. */
export const uploadQuery = z.object({
  filename: text('filename', 'expected a file name like scores.csv').min(1, {
    error: 'expected a file name like scores.csv',
  }),
});

/** Body of `PATCH deployments/{id}`. */
export const updateDeploymentBody = z
  .strictObject({
    buildId: z.uuid({ error: 'expected the id of a build' }).optional(),
    ...replicaFields,
  })
  .refine(b => Object.keys(b).length > 0, {
    error:
      'expected at least one of buildId, replicas, minReplicas, maxReplicas',
  });

/** Query of `GET deployments/{id}/logs`. */
export const deploymentLogsQuery = z.object({
  tail: integerParam(1, 10_000).default(200),
  after: integerParam(0, Number.MAX_SAFE_INTEGER).optional(),
  follow: z
    .enum(['true', 'false'], { error: 'expected true or false' })
    .optional(),
  format: z
    .enum(['text', 'json'], { error: 'expected text or json' })
    .default('text'),
});
