import { InputError } from '@backstage/errors';
import { formatIssues } from '@internal/plugin-ml-platform-common';
import { z } from 'zod';

/**
 * Validates request input; the 400 names each bad field, e.g.
 * `body.gitPath: expected a relative path`.
 */
export function parseRequest<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: 'body' | 'query',
): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) {
    throw new InputError(formatIssues(result.error.issues, where).join('; '));
  }
  return result.data;
}
