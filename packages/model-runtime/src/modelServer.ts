import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

/** Directory to put on PYTHONPATH so `python3 -m mlp_runtime.*` resolves. */
export const modelRuntimePythonPath = resolvePackagePath(
  '@internal/ml-platform-model-runtime',
  'python',
);

/**
 * How runtime processes are started when they must be contained: the
 * command line that runs them (e.g. as another user, with limits) and their
 * whole environment; nothing of the backend's environment is inherited.
 */
export interface ProcessLauncher {
  wrap(command: string, args: string[]): { command: string; args: string[] };
  /** The process's environment (PATH, HOME, LANG ...), before PYTHONPATH. */
  env: Record<string, string>;
  /** A copy of the `mlp_runtime` package the process can read; default the package's own. */
  runtimePythonPath?: string;
}

/** What every runtime process needs to load a model. */
export interface ModelProcessOptions {
  /** The model's directory (holds the entrypoint module). */
  modelDir: string;
  /** `module:Class`, from `spec.entrypoint`. */
  entrypoint: string;
  /** JSON file holding `spec.schema` of the manifest. */
  schemaFile?: string;
  /** The interpreter, e.g. a build's venv python. Default `python3`. */
  python?: string;
  env?: Record<string, string>;
  /** Starts the process contained; without it, it inherits the backend's environment. */
  launcher?: ProcessLauncher;
  /** Receives every stderr line (logs, model prints). */
  onLog?: (line: string) => void;
  /**
   * Pass `--exit-with-parent`: the process stops (as on SIGTERM) when this
   * Node process dies, so a SIGKILLed backend leaves no orphans.
   */
  exitWithParent?: boolean;
  /**
   * Called right after spawning, before the ready line: gives the caller the
   * pid and a way to kill a process that is still loading its model.
   */
  onSpawn?: (child: ChildProcess) => void;
}

export interface ModelServerOptions extends ModelProcessOptions {
  name: string;
  version?: string;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  maxBodyBytes?: number;
  /** How many requests may be in `predict` at once (default 1). */
  threads?: number;
  /** Give up when the model is not ready after this long. */
  readyTimeoutMs?: number;
}

export interface ModelServerProcess {
  pid: number;
  port: number;
  /** `http://host:port` */
  url: string;
  child: ChildProcess;
  /** Resolves when the process ends, with its exit code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (in-flight requests finish), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** The runtime process ended or failed before it said it was ready. */
export class ModelProcessStartError extends Error {
  readonly name = 'ModelProcessStartError';
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly logTail: string[],
  ) {
    super(message);
  }
}

function withRuntimeOnPath(
  env: Record<string, string> | undefined,
  launcher: ProcessLauncher | undefined,
) {
  const base = launcher ? launcher.env : process.env;
  const pythonPath = [
    launcher?.runtimePythonPath ?? modelRuntimePythonPath,
    env?.PYTHONPATH ?? base.PYTHONPATH,
  ]
    .filter(Boolean)
    .join(path.delimiter);
  return {
    ...base,
    PYTHONUNBUFFERED: '1',
    ...env,
    PYTHONPATH: pythonPath,
  };
}

/**
 * Spawns a runtime module and resolves with its ready line (the first JSON
 * line on stdout). stderr lines go to `onLog`; the last ones explain a
 * failed start.
 */
export function spawnRuntimeProcess(
  module: 'mlp_runtime.server' | 'mlp_runtime.batch',
  args: string[],
  options: ModelProcessOptions & {
    readyTimeoutMs?: number;
    detached?: boolean;
  },
): Promise<{
  child: ChildProcess;
  ready: Record<string, unknown>;
  stdout: readline.Interface;
}> {
  const argv = ['-m', module, ...args];
  if (options.exitWithParent) argv.push('--exit-with-parent');
  const python = options.python ?? 'python3';
  const { command, args: commandArgs } = options.launcher
    ? options.launcher.wrap(python, argv)
    : { command: python, args: argv };
  const child = spawn(command, commandArgs, {
    cwd: options.modelDir,
    env: withRuntimeOnPath(options.env, options.launcher),
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: options.detached,
  });
  options.onSpawn?.(child);
  const logTail: string[] = [];
  readline.createInterface({ input: child.stderr! }).on('line', line => {
    logTail.push(line);
    if (logTail.length > 20) logTail.shift();
    options.onLog?.(line);
  });
  const stdout = readline.createInterface({ input: child.stdout! });

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new ModelProcessStartError(
          `${module} was not ready after ${options.readyTimeoutMs} ms`,
          null,
          logTail,
        ),
      );
    }, options.readyTimeoutMs ?? 60_000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      const last = logTail.filter(Boolean).at(-1);
      reject(
        new ModelProcessStartError(
          `${module} exited with code ${code} before it was ready${
            last ? `: ${last}` : ''
          }`,
          code,
          logTail,
        ),
      );
    };
    child.once('exit', onExit);
    child.once('error', error => {
      clearTimeout(timer);
      reject(
        new ModelProcessStartError(
          `could not start python: ${error.message}`,
          null,
          logTail,
        ),
      );
    });
    stdout.once('line', line => {
      clearTimeout(timer);
      child.off('exit', onExit);
      try {
        resolve({ child, ready: JSON.parse(line), stdout });
      } catch {
        child.kill('SIGKILL');
        reject(
          new ModelProcessStartError(
            `unexpected first line: ${line}`,
            null,
            logTail,
          ),
        );
      }
    });
  });
}

/** Starts `mlp_runtime.server` and waits until the model is loaded and listening. */
export async function startModelServer(
  options: ModelServerOptions,
): Promise<ModelServerProcess> {
  const host = options.host ?? '127.0.0.1';
  const args = [
    '--model-dir',
    options.modelDir,
    '--entrypoint',
    options.entrypoint,
    '--name',
    options.name,
    '--host',
    host,
    '--port',
    String(options.port ?? 0),
  ];
  if (options.version) args.push('--version', options.version);
  if (options.schemaFile) args.push('--schema', options.schemaFile);
  if (options.maxBodyBytes)
    args.push('--max-body-bytes', String(options.maxBodyBytes));
  if (options.threads) args.push('--threads', String(options.threads));

  const { child, ready } = await spawnRuntimeProcess(
    'mlp_runtime.server',
    args,
    options,
  );
  const exited = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
  }>(resolve => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
    } else {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    }
  });
  const port = Number(ready.port);
  return {
    pid: child.pid!,
    port,
    url: `http://${host}:${port}`,
    child,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
