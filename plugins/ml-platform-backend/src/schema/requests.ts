import { z } from 'zod';

const relativePath = z
  .string()
  .refine(p => !p.startsWith('/') && !p.split('/').includes('..'), {
    error: 'expected a relative path inside the repository',
  });

const branchName = z
  .string({ error: 'expected a branch name' })
  .regex(/^[\w./-]+$/, { error: 'expected a branch name' });

/** Body of `POST models/{namespace}/{name}/register`. */
export const registerModelBody = z.strictObject({
  gitUrl: z
    .string({ error: 'expected a Git clone URL' })
    .min(1, { error: 'expected a Git clone URL' })
    .optional(),
  gitPath: relativePath.optional(),
  defaultBranch: branchName.optional(),
  manifestPath: relativePath.optional(),
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
