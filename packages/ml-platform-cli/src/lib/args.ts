import { InvalidArgumentError } from 'commander';
import { ModelRef } from '@internal/plugin-ml-platform-common';

// Backstage entity names and namespaces: letters, digits, and [-_.] inside.
const ENTITY_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (text: string) => UUID.test(text);

/**
 * `ns/name`, `name` (namespace `default`) or an entity ref
 * `component:ns/name`, as a commander argument parser.
 */
export function parseModelRef(text: string): ModelRef {
  const bare = text.replace(/^component:/i, '');
  const [namespace, name, extra] = bare.includes('/')
    ? bare.split('/')
    : ['default', bare];
  if (
    extra !== undefined ||
    !ENTITY_NAME.test(namespace) ||
    !ENTITY_NAME.test(name ?? '')
  ) {
    throw new InvalidArgumentError(
      `"${text}" is not a model: expected NAME or NAMESPACE/NAME, e.g. churn or default/churn`,
    );
  }
  return { namespace, name };
}

export const modelLabel = (ref: ModelRef) =>
  ref.namespace === 'default' ? ref.name : `${ref.namespace}/${ref.name}`;

/** A commander parser for whole numbers from `min`. */
export function integer(min: number) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`expected a whole number >= ${min}`);
    }
    return n;
  };
}

/** A commander parser for seconds, e.g. `90` or `1.5`. */
export function seconds(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError('expected a number of seconds > 0');
  }
  return n;
}

/** A commander parser for IDs the API hands out. */
export function uuid(text: string): string {
  if (!isUuid(text)) {
    throw new InvalidArgumentError(`"${text}" is not an ID (a UUID)`);
  }
  return text.toLowerCase();
}
