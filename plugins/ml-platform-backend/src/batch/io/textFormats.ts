import { InputError } from '@backstage/errors';
import { Readable } from 'node:stream';
import { CsvRecord, CsvSyntaxError, csvRecordBatches } from './csv';
import { readLines, stripBom } from './lines';
import { SourceRow } from './types';

/** CSV records in batches; syntax errors become InputErrors naming the line. */
async function* csvRecords(
  input: Readable,
  label: string,
): AsyncGenerator<CsvRecord[]> {
  try {
    yield* csvRecordBatches(input);
  } catch (error) {
    if (error instanceof CsvSyntaxError) {
      throw new InputError(`${label}: malformed CSV at ${error.message}`);
    }
    throw error;
  }
}

function checkHeader(header: string[], line: number, label: string): string[] {
  const seen = new Set<string>();
  header.forEach((name, i) => {
    if (name.trim() === '') {
      throw new InputError(
        `${label}: line ${line}: column ${i + 1} of the header has no name`,
      );
    }
    if (seen.has(name)) {
      throw new InputError(
        `${label}: line ${line}: duplicate column '${name}' in the header`,
      );
    }
    seen.add(name);
  });
  return header;
}

/**
 * Rows of a CSV stream with a header line. Cells stay strings: the worker
 * converts them by the model's schema.
 */
export async function* readCsvRows(
  input: Readable,
  label: string,
): AsyncGenerator<SourceRow> {
  let header: string[] | undefined;
  let index = 0;
  for await (const batch of csvRecords(input, label)) {
    for (const { fields, line } of batch) {
      if (!header) {
        header = checkHeader(fields, line, label);
        continue;
      }
      if (fields.length !== header.length) {
        throw new InputError(
          `${label}: malformed CSV at line ${line}: expected ${header.length} fields as in the header, got ${fields.length}`,
        );
      }
      const values: Record<string, unknown> = {};
      for (let i = 0; i < header.length; i++) {
        values[header[i]] = fields[i];
      }
      yield { index, values };
      index += 1;
    }
  }
}

/** The header of a CSV stream; stops reading right after it. */
export async function readCsvHeader(
  input: Readable,
  label: string,
): Promise<string[]> {
  for await (const batch of csvRecords(input, label)) {
    return checkHeader(batch[0].fields, batch[0].line, label);
  }
  return [];
}

function parseJsonLine(
  line: string,
  lineNumber: number,
  label: string,
): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new InputError(
      `${label}: line ${lineNumber}: invalid JSON: ${(error as Error).message}`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    let kind: string = typeof value;
    if (value === null) kind = 'null';
    else if (Array.isArray(value)) kind = 'array';
    throw new InputError(
      `${label}: line ${lineNumber}: expected a JSON object, got ${kind}`,
    );
  }
  return value as Record<string, unknown>;
}

/** Rows of a JSON lines stream; blank lines are skipped. */
export async function* readJsonlRows(
  input: Readable,
  label: string,
): AsyncGenerator<SourceRow> {
  let index = 0;
  for await (const { line, lineNumber } of readLines(input)) {
    const text = lineNumber === 1 ? stripBom(line) : line;
    if (text.trim() === '') continue;
    yield { index, values: parseJsonLine(text, lineNumber, label) };
    index += 1;
  }
}

/** Keys of the first object of a JSON lines stream. */
export async function readJsonlColumns(
  input: Readable,
  label: string,
): Promise<string[]> {
  for await (const row of readJsonlRows(input, label)) {
    return Object.keys(row.values);
  }
  return [];
}
