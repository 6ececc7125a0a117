import { Command } from 'commander';
import {
  BatchExecution,
  ExecutionChunk,
  MlPlatformApi,
} from '@internal/plugin-ml-platform-common';
import { integer, uuid } from '../lib/args';
import { CommandContext } from '../lib/context';
import { CliError, ExitCode } from '../lib/errors';
import { examples } from '../lib/help';
import { sleep } from '../lib/io';
import { count, duration, elapsed, Output } from '../lib/output';

type Kind = 'build' | 'deployment' | 'execution';

const isNotFound = (error: unknown) =>
  (error as { response?: { status?: number } }).response?.status === 404;

/** Which of a build, a deployment or an execution the ID is. */
async function kindOf(api: MlPlatformApi, id: string): Promise<Kind> {
  const probes: [Kind, () => Promise<unknown>][] = [
    ['build', () => api.getBuild(id)],
    ['deployment', () => api.getDeployment(id)],
    ['execution', () => api.getExecution(id)],
  ];
  for (const [kind, probe] of probes) {
    try {
      await probe();
      return kind;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  throw new CliError(
    `no build, deployment or execution has the ID ${id}`,
    ExitCode.notFound,
  );
}

async function buildLogs(
  api: MlPlatformApi,
  id: string,
  follow: boolean,
  out: Output,
  signal: AbortSignal,
) {
  if (follow) {
    for await (const line of api.followBuildLog(id, { signal })) {
      out.item({ line }, line);
    }
    return;
  }
  for (let after = 0; ; ) {
    const page = await api.getBuildLog(id, after);
    for (const item of page.items) out.item(item, item.line);
    if (page.items.length === 0 || page.lastId === after) return;
    after = page.lastId;
  }
}

async function deploymentLogs(
  api: MlPlatformApi,
  id: string,
  options: { follow: boolean; tail?: number },
  out: Output,
  signal: AbortSignal,
) {
  if (options.follow) {
    for await (const line of api.followDeploymentLogs(id, {
      tail: options.tail,
      signal,
    })) {
      out.item({ line }, line);
    }
    return;
  }
  const page = await api.getDeploymentLogs(id, { tail: options.tail ?? 200 });
  for (const item of page.items) {
    out.item(
      item,
      `${item.time} [${item.replica ?? item.stream}] ${item.line}`,
    );
  }
}

const EXECUTION_DONE = ['succeeded', 'failed', 'cancelled'];

function chunkLine(c: ExecutionChunk) {
  const rows = `rows ${c.rowStart}-${c.rowEnd - 1}`;
  const attempt = c.attempts > 1 ? ` (attempt ${c.attempts})` : '';
  const took = duration(elapsed(c.startedAt, c.finishedAt));
  const detail = c.error ? `: ${c.error}` : '';
  return `${c.finishedAt ?? c.startedAt ?? ''} chunk ${c.seq} ${rows} ${
    c.status
  }${attempt}${took && c.finishedAt ? ` in ${took}` : ''}${detail}`.trim();
}

function executionLine(e: BatchExecution) {
  const rows =
    e.rowsTotal !== undefined
      ? `${count(e.rowsDone)}/${count(e.rowsTotal)} rows`
      : `${count(e.rowsDone)} rows`;
  const failed = e.rowsFailed ? `, ${count(e.rowsFailed)} failed` : '';
  const error = e.error ? `: ${e.error}` : '';
  return `${e.finishedAt ?? e.startedAt ?? e.createdAt} execution ${
    e.status
  }, ${rows}${failed}${error}`;
}

/**
 * An execution keeps no log of its own: its log is its chunks' history
 * (started, succeeded, failed with the worker's error, retried) and its end.
 */
async function executionLogs(
  api: MlPlatformApi,
  id: string,
  follow: boolean,
  out: Output,
  signal: AbortSignal,
) {
  const shown = new Map<number, string>();
  for (;;) {
    const execution = await api.getExecution(id);
    const chunks = await api.listExecutionChunks(id);
    for (const chunk of chunks) {
      const state = `${chunk.status}/${chunk.attempts}`;
      if (chunk.status === 'pending' || shown.get(chunk.seq) === state)
        continue;
      shown.set(chunk.seq, state);
      out.item({ chunk }, chunkLine(chunk));
    }
    if (!follow || EXECUTION_DONE.includes(execution.status)) {
      out.item({ execution }, executionLine(execution));
      return;
    }
    await sleep(500, signal);
  }
}

export function registerLogs(program: Command, ctx: CommandContext) {
  program
    .command('logs')
    .description(
      "Show the log of a build, of a deployment's replicas, or of an execution's chunks",
    )
    .argument('<id>', 'a build, deployment or execution ID', uuid)
    .option(
      '-f, --follow',
      'keep printing new lines: until a build or execution ends, until Ctrl-C for a deployment',
    )
    .option(
      '--tail <lines>',
      'deployments: the last lines only (default 200)',
      integer(1),
    )
    .addHelpText(
      'after',
      examples(
        [
          'a build as it runs',
          'mlp logs 3f1c9a52-7a0e-4f43-9d52-2f4bd1e0c8a1 --follow',
        ],
        [
          "the replicas' output of the live deployment",
          "mlp logs $(mlp deployments churn -o json | jq -r '.[0].id') --tail 50",
        ],
        ['as JSON lines', 'mlp logs <id> -o json'],
      ),
    )
    .action(async (id: string, options, command: Command) => {
      const { client } = await ctx.session(command);
      const out = ctx.output(command);
      const follow = Boolean(options.follow);
      const { signal } = ctx.io;
      switch (await kindOf(client, id)) {
        case 'build':
          await buildLogs(client, id, follow, out, signal);
          break;
        case 'deployment':
          await deploymentLogs(
            client,
            id,
            { follow, tail: options.tail },
            out,
            signal,
          );
          break;
        default:
          await executionLogs(client, id, follow, out, signal);
      }
    });
}
