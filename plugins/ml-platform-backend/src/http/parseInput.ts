import { InputError } from '@backstage/errors';
import { formatIssues } from '@internal/plugin-ml-platform-common';
import { z } from 'zod';

/**
 * Checks what the OpenAPI document cannot say (JSONPaths, topic names,
 * times); the 400 names each bad field, e.g. `body.mapping.rows: ...`.
 */
export function parseInput<S extends z.ZodType>(
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
