import {
  CreateExecutionBody,
  DataFormat,
  ExecutionInput,
  ExecutionOutput,
} from '@internal/plugin-ml-platform-common';
import { definedOnly, parseOptionalInt, SIZE_RANGES } from '../../lib/numbers';

export type InputKind = 'upload' | 'path' | 'url';
export type OutputKind = 'file' | 'table';

export interface ExecutionForm {
  /** `deployment:<id>` or `build:<id>`. */
  target: string;
  inputKind: InputKind;
  file?: File;
  path: string;
  url: string;
  outputKind: OutputKind;
  outputFormat: DataFormat;
  connection: string;
  table: string;
  chunkSize: string;
  parallelism: string;
}

export type FormErrors = Partial<Record<keyof ExecutionForm, string>>;

/** The data format a file name says, as the backend reads it. */
export function formatOfFilename(name: string): DataFormat | undefined {
  const lower = name.toLocaleLowerCase('en-US');
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.parquet')) return 'parquet';
  return undefined;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Checks the form; for valid ones, the execution body with the input still to
 * be filled in for uploads (the file goes up first).
 */
export function validateExecutionForm(form: ExecutionForm): {
  errors: FormErrors;
  body?: Omit<CreateExecutionBody, 'input'> & { input?: ExecutionInput };
} {
  const errors: FormErrors = {};
  const colon = form.target.indexOf(':');
  const targetKind = form.target.slice(0, colon);
  const targetId = colon > 0 ? form.target.slice(colon + 1) : '';
  if (!targetId) errors.target = 'choose a batch deployment or a build';

  let input: ExecutionInput | undefined;
  if (form.inputKind === 'upload') {
    if (!form.file) errors.file = 'choose a file';
    else if (!formatOfFilename(form.file.name)) {
      errors.file = 'expected a .csv, .jsonl or .parquet file';
    }
  } else if (form.inputKind === 'path') {
    if (!form.path.trim()) errors.path = 'enter a path on the server';
    else input = { type: 'path', path: form.path.trim() };
  } else if (!isHttpUrl(form.url.trim())) {
    errors.url = 'expected an http(s) URL';
  } else {
    input = { type: 'url', url: form.url.trim() };
  }

  let output: ExecutionOutput;
  if (form.outputKind === 'table') {
    if (!form.connection.trim()) errors.connection = 'enter a connection name';
    if (!form.table.trim()) errors.table = 'enter a table name';
    output = {
      type: 'table',
      connection: form.connection.trim(),
      table: form.table.trim(),
    };
  } else {
    output = { type: 'file', format: form.outputFormat };
  }

  const chunkSize = parseOptionalInt(form.chunkSize, SIZE_RANGES.chunkSize);
  if (chunkSize.error) errors.chunkSize = chunkSize.error;
  const parallelism = parseOptionalInt(
    form.parallelism,
    SIZE_RANGES.parallelism,
  );
  if (parallelism.error) errors.parallelism = parallelism.error;

  if (Object.keys(errors).length) {
    return { errors };
  }
  return {
    errors,
    body: {
      ...(targetKind === 'deployment'
        ? { deploymentId: targetId }
        : { buildId: targetId }),
      input,
      output,
      ...definedOnly({
        chunkSize: chunkSize.value,
        parallelism: parallelism.value,
      }),
    },
  };
}
