import { Command } from 'commander';
import { ModelRef } from '@internal/plugin-ml-platform-common';
import fs from 'node:fs';
import path from 'node:path';
import { parseModelRef } from '../lib/args';
import { CommandContext } from '../lib/context';
import {
  CliError,
  exitCodeForStatus,
  messageOfBody,
  UsageError,
} from '../lib/errors';
import { examples } from '../lib/help';
import { Io, readText } from '../lib/io';
import { Column } from '../lib/output';

const MLFLOW_KEYS = [
  'dataframe_records',
  'dataframe_split',
  'instances',
  'inputs',
];

type Row = Record<string, unknown>;

/** `-d`: `@file` (JSON, or JSON Lines for .jsonl), `-` for stdin, or JSON. */
export async function readData(io: Io, spec: string): Promise<unknown> {
  let text: string;
  let file: string | undefined;
  if (spec === '-') {
    text = await readText(io.stdin);
  } else if (spec.startsWith('@')) {
    file = path.resolve(io.cwd, spec.slice(1));
    try {
      text = await fs.promises.readFile(file, 'utf8');
    } catch (error) {
      throw new UsageError(
        `-d: cannot read ${spec.slice(1)}: ${(error as Error).message}`,
      );
    }
  } else {
    text = spec;
  }
  try {
    if (file?.endsWith('.jsonl')) {
      return text
        .split('\n')
        .filter(line => line.trim())
        .map(line => JSON.parse(line));
    }
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`-d: not JSON: ${(error as Error).message}`);
  }
}

const isObject = (v: unknown): v is Row =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Rows or an MLflow scoring body, as the body of the records endpoint. */
export function recordsBody(data: unknown): object {
  if (Array.isArray(data)) return { dataframe_records: data };
  if (isObject(data)) {
    return MLFLOW_KEYS.some(k => k in data)
      ? data
      : { dataframe_records: [data] };
  }
  throw new UsageError(
    '-d: expected rows (a JSON array of objects) or an MLflow body',
  );
}

function datatypeOf(values: unknown[]): string {
  if (values.every(v => typeof v === 'boolean')) return 'BOOL';
  if (values.every(v => typeof v === 'number' && Number.isInteger(v)))
    return 'INT64';
  if (values.every(v => typeof v === 'number')) return 'FP64';
  return 'BYTES';
}

/**
 * An Open Inference Protocol request: as given, or made from rows with one
 * tensor per column and its datatype from the values.
 */
export function v2Body(data: unknown): object {
  if (isObject(data) && Array.isArray(data.inputs)) return data;
  const rows = Array.isArray(data) ? data : [data];
  if (!rows.length || !rows.every(isObject)) {
    throw new UsageError(
      '-d: expected rows (JSON objects) or a V2 body with "inputs"',
    );
  }
  const names = [...new Set(rows.flatMap(r => Object.keys(r)))];
  return {
    inputs: names.map(name => {
      const values = rows.map(r => r[name] ?? null);
      return {
        name,
        shape: [rows.length],
        datatype: datatypeOf(values),
        data: values,
      };
    }),
  };
}

/** Table rows of a prediction answer, records or V2. */
export function predictionRows(body: unknown): Row[] {
  if (!isObject(body)) return [];
  if (Array.isArray(body.predictions)) {
    return body.predictions.map(p => (isObject(p) ? p : { prediction: p }));
  }
  if (Array.isArray(body.outputs)) {
    const outputs = body.outputs as {
      name: string;
      shape?: number[];
      data: unknown[];
    }[];
    const n = Math.max(0, ...outputs.map(o => o.shape?.[0] ?? o.data.length));
    return Array.from({ length: n }, (_, i) =>
      Object.fromEntries(
        outputs.map(o => {
          const width = o.shape && o.shape.length > 1 ? o.shape[1] : 1;
          const value =
            width === 1 ? o.data[i] : o.data.slice(i * width, (i + 1) * width);
          return [o.name, value];
        }),
      ),
    );
  }
  return [];
}

/** A cell: floats to 6 significant digits, arrays and objects as JSON. */
function show(v: unknown): string | number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') {
    return Number.isInteger(v) ? v : Number(v.toPrecision(6));
  }
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export function registerPredict(program: Command, ctx: CommandContext) {
  program
    .command('predict')
    .description(
      "Invoke a model's online deployment with rows (MLflow records endpoint) or an Open Inference Protocol request (--v2)",
    )
    .argument('<model>', 'NAME or NAMESPACE/NAME', parseModelRef)
    .requiredOption(
      '-d, --data <rows>',
      'JSON rows or body: @FILE (.json, .jsonl), - for standard input, or the JSON itself',
    )
    .option(
      '--v2',
      'send an Open Inference Protocol (KServe V2) request; rows become one tensor per column',
    )
    .addHelpText(
      'after',
      examples(
        ['rows from a file', 'mlp predict churn -d @rows.json'],
        [
          'one row from standard input',
          `echo '{"tenure_months": 2, "monthly_charges": 85, "total_charges": 170, "contract": "month-to-month", "support_calls": 3, "has_internet": true}' | mlp predict churn -d -`,
        ],
        [
          'the same through the Open Inference Protocol',
          'mlp predict churn --v2 -d @rows.json -o json',
        ],
      ),
    )
    .action(async (ref: ModelRef, options, command: Command) => {
      const data = await readData(ctx.io, options.data);
      const { client } = await ctx.session(command);
      const result = options.v2
        ? await client.infer(ref.name, v2Body(data))
        : await client.predict(ref, recordsBody(data));
      if (result.status >= 400) {
        throw new CliError(
          `${result.status} ${
            messageOfBody(result.body) ?? 'the model failed'
          }`,
          exitCodeForStatus(result.status),
        );
      }
      const rows = predictionRows(result.body);
      const names = [...new Set(rows.flatMap(r => Object.keys(r)))];
      const columns: Column<Row>[] = names.map(name => ({
        header: name,
        value: r => show(r[name]),
      }));
      ctx.output(command).printAs(result.body, rows, columns);
    });
}
