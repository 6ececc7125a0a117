import { IntRange } from '@internal/plugin-ml-platform-common';

export {
  SIZE_RANGES,
  type IntRange,
} from '@internal/plugin-ml-platform-common';

/**
 * An optional whole number typed into a form: blank is `undefined` (the
 * backend's default applies), anything else must be an integer in range.
 */
export function parseOptionalInt(
  text: string,
  range: IntRange,
): { value?: number; error?: string } {
  if (text.trim() === '') {
    return {};
  }
  const n = Number(text);
  if (!Number.isInteger(n)) {
    return { error: 'expected a whole number' };
  }
  if (n < range.min) {
    return { error: `must be at least ${range.min}` };
  }
  if (range.max !== undefined && n > range.max) {
    return { error: `must be at most ${range.max}` };
  }
  return { value: n };
}

/** `undefined` stays `undefined`, so blank fields are left out of bodies. */
export function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(o).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}
