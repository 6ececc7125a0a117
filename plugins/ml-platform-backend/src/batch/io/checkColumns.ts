import { InputError } from '@backstage/errors';
import { RowSource } from './types';

const MAX_LISTED = 50;

function list(names: string[]): string {
  if (names.length === 0) return '(none)';
  const shown = names.slice(0, MAX_LISTED).map(n => `'${n}'`);
  const more = names.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ');
}

/**
 * Checks, before anything runs, that the input has every column the model
 * requires. Returns the input's columns; throws an InputError naming the
 * missing columns and the ones present.
 */
export async function checkColumns(
  source: RowSource,
  required: string[],
): Promise<string[]> {
  const present = await source.columns();
  const have = new Set(present);
  const missing = required.filter(name => !have.has(name));
  if (missing.length > 0) {
    throw new InputError(
      `${source.description} is missing required column${
        missing.length > 1 ? 's' : ''
      } ${list(missing)}; its columns are ${list(present)}`,
    );
  }
  return present;
}
