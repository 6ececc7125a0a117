import { InputError } from '@backstage/errors';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod/v3';

/**
 * The scaffolder validates inputs against the JSON Schema, but actions are
 * also called directly (tests, other templates): errors name the field.
 */
export function parseInput<S extends z.ZodTypeAny>(
  schema: S,
  input: unknown,
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new InputError(
      parsed.error.issues
        .map(i => `input.${i.path.join('.')}: ${i.message}`)
        .join('; '),
    );
  }
  return parsed.data;
}

/** A model reference (`component:default/churn`, `default/churn` or `churn`) as the API wants it. */
export function modelRef(entityRef: string) {
  const ref = parseEntityRef(entityRef, {
    defaultKind: 'component',
    defaultNamespace: 'default',
  });
  if (ref.kind.toLocaleLowerCase('en-US') !== 'component') {
    throw new InputError(`input.entityRef: ${entityRef} is not a component`);
  }
  return { namespace: ref.namespace, name: ref.name };
}

/** An owner (`data-science`, `group:default/data-science`, `user:default/ada`) as a full ref. */
export function ownerRef(owner: string): string {
  return stringifyEntityRef(
    parseEntityRef(owner, {
      defaultKind: 'group',
      defaultNamespace: 'default',
    }),
  );
}

/** Polls `check` until it returns a value; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  options: {
    timeoutMs: number;
    intervalMs?: number;
    what: string;
    signal?: AbortSignal;
  },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out after ${Math.round(
          options.timeoutMs / 1000,
        )} s waiting for ${options.what}`,
      );
    }
    await sleep(options.intervalMs ?? 1000, undefined, {
      signal: options.signal,
    });
  }
}

export const entityRefField = z
  .string({ required_error: 'is required' })
  .regex(/^([a-zA-Z]+:)?([a-z0-9A-Z_.-]+\/)?[a-z0-9A-Z_.-]+$/, {
    message: 'expected an entity ref like component:default/churn',
  })
  .describe('The model, e.g. component:default/churn');
