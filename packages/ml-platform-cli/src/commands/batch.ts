import { Command } from 'commander';
import {
  BatchExecution,
  DataFormat,
  ExecutionInput,
  ExecutionOutput,
  MlPlatformApi,
  ModelRef,
} from '@internal/plugin-ml-platform-common';
import fs from 'node:fs';
import path from 'node:path';
import { integer, modelLabel, parseModelRef, uuid } from '../lib/args';
import { executionColumns } from '../lib/columns';
import { CommandContext } from '../lib/context';
import { CliError, UsageError } from '../lib/errors';
import { examples } from '../lib/help';
import { Io } from '../lib/io';
import { bytes, count, duration, elapsed } from '../lib/output';
import { ProgressBar, ProgressState } from '../lib/progress';
import { resolveBuild } from '../lib/resolve';
import { RowCounter } from '../lib/rowCounter';
import { waitForExecution } from '../lib/wait';

const FORMATS: Record<string, DataFormat> = {
  '.csv': 'csv',
  '.jsonl': 'jsonl',
  '.parquet': 'parquet',
};
/** Redraws of a bar on a terminal, at most. */
const REDRAW_MS = 100;

/** `sql:CONNECTION:REST`, split at the first two colons. */
function sqlSpec(spec: string, option: string, what: string) {
  const match = /^sql:([^:]+):(.+)$/s.exec(spec);
  if (!match) {
    throw new UsageError(`${option}: expected sql:CONNECTION:${what}`);
  }
  return { connection: match[1], rest: match[2] };
}

function formatOf(file: string, option: string): DataFormat {
  const format = FORMATS[path.extname(file).toLowerCase()];
  if (!format) {
    throw new UsageError(
      `${option}: ${file} is not a .csv, .jsonl or .parquet file`,
    );
  }
  return format;
}

/** Where `--input` reads: a local file (uploaded), a URL, or a SQL query. */
export type InputSpec =
  | { type: 'file'; path: string; format: DataFormat }
  | ExecutionInput;

export function parseInput(spec: string, cwd: string): InputSpec {
  if (spec.startsWith('sql:')) {
    const { connection, rest } = sqlSpec(spec, '--input', 'QUERY');
    return { type: 'sql', connection, query: rest };
  }
  if (/^https?:\/\//i.test(spec)) {
    const format = FORMATS[path.extname(new URL(spec).pathname).toLowerCase()];
    return { type: 'url', url: spec, ...(format ? { format } : {}) };
  }
  return {
    type: 'file',
    path: path.resolve(cwd, spec),
    format: formatOf(spec, '--input'),
  };
}

/** Where `--output` goes: a local file (downloaded) or a SQL table. */
export type OutputSpec =
  | { type: 'file'; path: string; format: DataFormat }
  | { type: 'table'; connection: string; table: string };

export function parseOutput(spec: string, cwd: string): OutputSpec {
  if (spec.startsWith('sql:')) {
    const { connection, rest } = sqlSpec(spec, '--output', 'TABLE');
    return { type: 'table', connection, table: rest };
  }
  return {
    type: 'file',
    path: path.resolve(cwd, spec),
    format: formatOf(spec, '--output'),
  };
}

/** Streams a local file to the platform, with a bar of bytes sent. */
async function upload(io: Io, api: MlPlatformApi, ref: ModelRef, file: string) {
  let size: number;
  try {
    const stat = await fs.promises.stat(file);
    if (!stat.isFile()) throw new Error('not a file');
    size = stat.size;
  } catch (error) {
    throw new UsageError(
      `--input: cannot read ${file}: ${(error as Error).message}`,
    );
  }
  const bar = new ProgressBar(
    io.stderr,
    `uploading ${path.basename(file)}`,
    'bytes',
  );
  const format = formatOf(file, '--input');
  const counter = format === 'parquet' ? undefined : new RowCounter(format);
  const started = Date.now();
  let sent = 0;
  let drawnAt = 0;
  const chunks = fs.createReadStream(file)[Symbol.asyncIterator]();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await chunks.next();
      if (done) {
        controller.close();
        return;
      }
      sent += value.length;
      counter?.push(value);
      if (Date.now() - drawnAt > REDRAW_MS) {
        drawnAt = Date.now();
        const secs = (drawnAt - started) / 1000;
        bar.update({
          done: sent,
          total: size,
          rate: secs > 0 ? sent / secs : undefined,
        });
      }
      controller.enqueue(new Uint8Array(value));
    },
    async cancel() {
      await chunks.return?.();
    },
  });
  const uploaded = await api.uploadInput(ref, body, path.basename(file), {
    signal: io.signal,
  });
  bar.finish({ done: uploaded.size, total: size });
  return { uploaded, rows: counter?.rows };
}

/** Writes the result file as it arrives, whole or not at all. */
async function download(
  io: Io,
  api: MlPlatformApi,
  execution: BatchExecution,
  file: string,
) {
  const result = await api.readExecutionResult(execution.id, {
    signal: io.signal,
  });
  const bar = new ProgressBar(
    io.stderr,
    `downloading ${path.basename(file)}`,
    'bytes',
  );
  const tmp = `${file}.${process.pid}.part`;
  const out = fs.createWriteStream(tmp);
  const reader = result.body.getReader();
  let received = 0;
  let drawnAt = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      received += value.length;
      if (!out.write(value)) {
        await new Promise(resolve => out.once('drain', resolve));
      }
      if (Date.now() - drawnAt > REDRAW_MS) {
        drawnAt = Date.now();
        bar.update({ done: received, total: result.size });
      }
    }
    await new Promise<void>((resolve, reject) =>
      out.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    await fs.promises.rename(tmp, file);
  } catch (error) {
    out.destroy();
    await fs.promises.rm(tmp, { force: true });
    throw error;
  }
  bar.finish({ done: received, total: result.size ?? received });
  return received;
}

/**
 * Draws the execution's progress until it ends; Ctrl-C leaves it running.
 * Until the platform has read all the input, the total is the rows the
 * upload counted, when known.
 */
async function follow(
  io: Io,
  api: MlPlatformApi,
  id: string,
  expectedRows?: number,
) {
  const bar = new ProgressBar(io.stderr, `execution ${id.slice(0, 8)}`, 'rows');
  const stateOf = (e: BatchExecution): ProgressState => {
    const done = e.rowsDone + e.rowsFailed;
    const total = e.rowsTotal ?? expectedRows;
    const running = e.status === 'running';
    let eta = e.etaSeconds;
    if (eta === undefined && total !== undefined && e.rowsPerSecond) {
      eta = Math.max(0, total - done) / e.rowsPerSecond;
    }
    const notes = [
      running ? undefined : e.status,
      e.rowsFailed ? `${count(e.rowsFailed)} failed` : undefined,
    ].filter(Boolean);
    return {
      done,
      total,
      rate: e.rowsPerSecond,
      eta: running ? eta : undefined,
      note: notes.length ? notes.join(', ') : undefined,
    };
  };
  try {
    const execution = await waitForExecution(api, id, {
      intervalMs: 250,
      signal: io.signal,
      onUpdate: e => bar.update(stateOf(e)),
    });
    bar.finish(stateOf(execution));
    return execution;
  } catch (error) {
    bar.finish();
    if (io.signal.aborted) {
      throw new CliError(
        `stopped following; execution ${id} keeps running (mlp batch cancel ${id} stops it)`,
        130,
      );
    }
    throw error;
  }
}

export function registerBatch(program: Command, ctx: CommandContext) {
  const batch = program
    .command('batch')
    .description(
      'Batch predictions: run a model over a dataset, list, follow, download, cancel',
    )
    .addHelpText(
      'after',
      examples(
        [
          'score a CSV file and download the result',
          'mlp batch run churn --input customers.csv --output scores.csv --follow',
        ],
        ['executions of a model', 'mlp batch list churn'],
      ),
    );

  /** Ends a followed execution: the result downloaded, or exit 1. */
  async function conclude(
    command: Command,
    api: MlPlatformApi,
    execution: BatchExecution,
    outputFile?: string,
  ) {
    ctx.output(command).print(execution, executionColumns);
    if (execution.status !== 'succeeded') {
      throw new CliError(
        `execution ${execution.status}${
          execution.error ? `: ${execution.error}` : ''
        }`,
      );
    }
    const took = duration(elapsed(execution.startedAt, execution.finishedAt));
    if (outputFile) {
      const size = await download(ctx.io, api, execution, outputFile);
      ctx.note(
        `wrote ${count(execution.rowsDone)} rows to ${outputFile} (${bytes(
          size,
        )}) in ${took}`,
      );
    } else {
      ctx.note(`${count(execution.rowsDone)} rows in ${took}`);
    }
  }

  batch
    .command('run')
    .description(
      'Run a model over a dataset: a local file (streamed up), a URL or a SQL query; with --follow, show progress and download the result',
    )
    .argument('<model>', 'NAME or NAMESPACE/NAME', parseModelRef)
    .requiredOption(
      '--input <input>',
      'FILE (.csv, .jsonl, .parquet), an http(s) URL, or sql:CONNECTION:QUERY',
    )
    .requiredOption(
      '--output <output>',
      'FILE (.csv, .jsonl, .parquet) to download the result to, or sql:CONNECTION:TABLE',
    )
    .option(
      '-f, --follow',
      'show progress (rows/s, ETA) until it ends, then download the result',
    )
    .option(
      '--build <build>',
      'run this build (a version or build ID) instead of the batch deployment',
    )
    .option('--chunk-size <rows>', 'rows per chunk', integer(1))
    .option('--parallelism <n>', 'chunks at a time', integer(1))
    .option('--max-retries <n>', 'retries of a failed chunk', integer(0))
    .addHelpText(
      'after',
      examples(
        [
          'score a file, with a progress bar, and download the result',
          'mlp batch run churn --input customers.csv --output scores.csv --follow',
        ],
        [
          'start it and come back later',
          'mlp batch run churn --input customers.jsonl --output scores.jsonl -o json | jq -r .id',
        ],
        [
          'rows from a database connection the portal knows, into a table',
          "mlp batch run churn --input 'sql:warehouse:select * from customers' --output sql:warehouse:churn_scores",
        ],
      ),
    )
    .action(async (ref: ModelRef, options, command: Command) => {
      const { io } = ctx;
      const input = parseInput(options.input, io.cwd);
      const output = parseOutput(options.output, io.cwd);
      if (output.type === 'file') {
        const dir = path.dirname(output.path);
        if (!fs.existsSync(dir)) {
          throw new UsageError(`--output: no directory ${dir}`);
        }
      }
      const { client } = await ctx.session(command);
      let target: { buildId?: string } = {};
      if (options.build !== undefined) {
        target = {
          buildId: (await resolveBuild(client, ref, options.build)).id,
        };
      } else if (
        !(await client.listDeployments(ref)).some(d => d.type === 'batch')
      ) {
        const build = await resolveBuild(client, ref, undefined);
        ctx.note(
          `${modelLabel(ref)} has no batch deployment: running build v${
            build.version
          }`,
        );
        target = { buildId: build.id };
      }
      let executionInput: ExecutionInput;
      let expectedRows: number | undefined;
      if (input.type === 'file') {
        const { uploaded, rows } = await upload(io, client, ref, input.path);
        executionInput = { type: 'upload', uploadId: uploaded.uploadId };
        expectedRows = rows;
      } else {
        executionInput = input;
      }
      const executionOutput: ExecutionOutput =
        output.type === 'file'
          ? { type: 'file', format: output.format }
          : output;
      let execution = await client.createExecution(ref, {
        ...target,
        input: executionInput,
        output: executionOutput,
        chunkSize: options.chunkSize,
        parallelism: options.parallelism,
        maxRetries: options.maxRetries,
      });
      if (!options.follow) {
        ctx.note(
          `execution ${execution.id} started; follow it with: mlp batch get ${execution.id} --follow`,
        );
        ctx.output(command).print(execution, executionColumns);
        return;
      }
      execution = await follow(io, client, execution.id, expectedRows);
      await conclude(
        command,
        client,
        execution,
        output.type === 'file' ? output.path : undefined,
      );
    });

  batch
    .command('list')
    .description("List a model's executions, newest first")
    .argument('<model>', 'NAME or NAMESPACE/NAME', parseModelRef)
    .addHelpText(
      'after',
      examples(['executions of churn', 'mlp batch list churn']),
    )
    .action(async (ref: ModelRef, _options, command: Command) => {
      const { client } = await ctx.session(command);
      ctx
        .output(command)
        .print(await client.listExecutions(ref), executionColumns);
    });

  batch
    .command('get')
    .description("Show an execution's progress; with --follow, until it ends")
    .argument('<execution>', 'an execution ID', uuid)
    .option('-f, --follow', 'show progress until it ends; exit 1 if it fails')
    .addHelpText(
      'after',
      examples([
        'come back to a running execution',
        'mlp batch get 0c1d6a8e-2b1f-4a52-93a7-5d1e7f3b9c40 --follow',
      ]),
    )
    .action(async (id: string, options, command: Command) => {
      const { client } = await ctx.session(command);
      if (!options.follow) {
        ctx
          .output(command)
          .print(await client.getExecution(id), executionColumns);
        return;
      }
      await conclude(command, client, await follow(ctx.io, client, id));
    });

  batch
    .command('result')
    .description('Download the result file of a succeeded execution')
    .argument('<execution>', 'an execution ID', uuid)
    .argument('<file>', 'where to write it')
    .addHelpText(
      'after',
      examples([
        'download',
        'mlp batch result 0c1d6a8e-2b1f-4a52-93a7-5d1e7f3b9c40 scores.csv',
      ]),
    )
    .action(async (id: string, file: string, _options, command: Command) => {
      const { client } = await ctx.session(command);
      const execution = await client.getExecution(id);
      const target = path.resolve(ctx.io.cwd, file);
      const size = await download(ctx.io, client, execution, target);
      ctx.note(`wrote ${file} (${bytes(size)})`);
      ctx.output(command).print(execution, executionColumns);
    });

  batch
    .command('cancel')
    .description('Stop an execution; it ends cancelled, saying how far it got')
    .argument('<execution>', 'an execution ID', uuid)
    .addHelpText(
      'after',
      examples([
        'stop it',
        'mlp batch cancel 0c1d6a8e-2b1f-4a52-93a7-5d1e7f3b9c40',
      ]),
    )
    .action(async (id: string, _options, command: Command) => {
      const { client } = await ctx.session(command);
      ctx
        .output(command)
        .print(await client.cancelExecution(id), executionColumns);
    });
}
