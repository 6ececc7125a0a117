import { z } from 'zod';

const relativePath = z
  .string()
  .refine(p => !p.startsWith('/') && !p.split('/').includes('..'), {
    error: 'expected a relative path inside the repository',
  });

/** Body of `POST models/{namespace}/{name}/register`. */
export const registerModelBody = z.strictObject({
  gitUrl: z
    .string({ error: 'expected a Git clone URL' })
    .min(1, { error: 'expected a Git clone URL' })
    .optional(),
  gitPath: relativePath.optional(),
  defaultBranch: z
    .string()
    .regex(/^[\w./-]+$/, { error: 'expected a branch name' })
    .optional(),
});
