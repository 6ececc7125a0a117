import { ManifestField } from '@internal/plugin-ml-platform-common';

/** What the form holds: text for typed-in fields, booleans for switches. */
export type InputValues = Record<string, string | boolean>;

export function initialInputValues(fields: ManifestField[]): InputValues {
  return Object.fromEntries(
    fields.map(f => [f.name, f.type === 'boolean' ? false : '']),
  );
}

/**
 * One record of the model's input from the form, typed as the manifest says.
 * Empty optional fields are left out so the model sees them missing, not 0.
 */
export function rowFromValues(
  fields: ManifestField[],
  values: InputValues,
): { row: Record<string, unknown>; errors: Record<string, string> } {
  const row: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const raw = values[field.name];
    if (field.type === 'boolean') {
      row[field.name] = raw === true;
      continue;
    }
    const text = typeof raw === 'string' ? raw : '';
    if (field.type === 'string') {
      if (text !== '') row[field.name] = text;
      else if (field.required) errors[field.name] = 'required';
      continue;
    }
    if (text.trim() === '') {
      if (field.required) errors[field.name] = 'required';
      continue;
    }
    const n = Number(text);
    if (!Number.isFinite(n)) {
      errors[field.name] = 'expected a number';
    } else if (field.type === 'integer' && !Number.isInteger(n)) {
      errors[field.name] = 'expected an integer';
    } else {
      row[field.name] = n;
    }
  }
  return { row, errors };
}
