import { LoggerService } from '@backstage/backend-plugin-api';
import {
  ProcessLauncher,
  modelRuntimePythonPath,
} from '@internal/ml-platform-model-runtime';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** `mlPlatform.sandbox`, with defaults applied. */
export interface SandboxConfig {
  /** The unprivileged user model code runs as when the backend is root. */
  user: string;
  /**
   * `mlPlatform.sandbox.workDir`, resolved: where model code's files live
   * (build workspaces, unpacked builds, batch chunks). Unset: the data
   * directory if the sandbox user can reach it, else one under the system's
   * temporary directory.
   */
  workDir?: string;
  limits: {
    /** RLIMIT_CPU of build steps and batch workers, in seconds. */
    cpuTimeSeconds: number;
    /** RLIMIT_AS of every sandboxed process, in bytes. */
    memoryBytes: number;
    /** RLIMIT_NOFILE of every sandboxed process. */
    openFiles: number;
  };
  /** Whether build steps (pip, the model's tests) may use the network. */
  buildNetwork: boolean;
}

/** The PATH of sandboxed processes, ahead of a venv's bin directory. */
export const SANDBOX_PATH = '/usr/local/bin:/usr/bin:/bin';

/** What a sandboxed process is. */
export type SandboxRole = 'build' | 'replica' | 'batch';

/** A problem that stops the platform from starting, said in one paragraph. */
export class SandboxSetupError extends Error {
  readonly name = 'SandboxSetupError';
}

interface Identity {
  user: string;
  uid: number;
  gid: number;
}

/**
 * The wrappers, by absolute path: a command's PATH starts with the build's
 * venv, which model code can write to.
 */
interface Tools {
  prlimit: string;
  setpriv: string;
  unshare: string;
}

const TOOLS_PATH = `${SANDBOX_PATH}:/usr/sbin:/sbin`;

/** Fallback work directories are `<tmp>/ml-platform-work-<hash of dataDir>`. */
const FALLBACK_PREFIX = 'ml-platform-work-';
/** In a fallback work directory: the data directory it serves. */
const DATA_DIR_NOTE = '.data-dir';

/**
 * Runs model code contained: builds (pip, the model's tests, the smoke
 * prediction), online replicas and batch workers. Each gets a minimal
 * environment (no variable of the backend's), resource limits (`prlimit`),
 * and, when the backend runs as root, an unprivileged user
 * (`mlPlatform.sandbox.user`) that owns the workspace; builds may be cut
 * off the network (`unshare --net`). What it cannot contain (other models'
 * files on this host, the host's network for replicas) is the Kubernetes
 * runtime's job: see the README's security section.
 */
export class Sandbox {
  private constructor(
    readonly config: SandboxConfig,
    /** Set when the backend is root: processes run as this user. */
    readonly identity: Identity | undefined,
    /** The interpreter that makes build venvs, resolved for the sandbox. */
    readonly python: string,
    /**
     * Where model code's files live: `builds/`, `packages/`, `executions/`
     * and the runtime's copy, reachable by the sandbox user.
     */
    readonly workDir: string,
    /** A copy of the `mlp_runtime` package sandboxed processes can read. */
    readonly runtimePythonPath: string,
    private readonly lang: string,
    private readonly tools: Tools,
    /**
     * `mlPlatform.python` as configured, and each of
     * `mlPlatform.builds.allowedPythons` as configured to where it resolved.
     */
    private readonly interpreters: {
      configured: string;
      allowed: ReadonlyMap<string, string>;
    },
  ) {}

  /**
   * Resolves the user, the work directory and the interpreter, and proves
   * they work: the interpreter runs as the sandbox user, within the limits,
   * and reaches the work directory. Throws a {@link SandboxSetupError} that
   * says what to change otherwise; it never falls back to running model
   * code as root.
   */
  static async create(options: {
    config: SandboxConfig;
    /** `mlPlatform.python`. */
    python: string;
    /**
     * `mlPlatform.builds.allowedPythons`: the other interpreters a model's
     * `spec.python` may name.
     */
    allowedPythons?: string[];
    dataDir: string;
    logger: LoggerService;
    /** Defaults to whether this process is root. */
    asRoot?: boolean;
  }): Promise<Sandbox> {
    const { config, logger } = options;
    const asRoot = options.asRoot ?? process.getuid?.() === 0;
    const identity = asRoot ? await lookupUser(config.user) : undefined;
    const tool = (name: string) => {
      const found = resolveExecutable(name, TOOLS_PATH);
      if (!found.startsWith('/')) {
        throw new SandboxSetupError(
          `${name} is not installed (util-linux): the platform runs model code through it`,
        );
      }
      return found;
    };
    const tools: Tools = {
      prlimit: tool('prlimit'),
      setpriv: identity ? tool('setpriv') : 'setpriv',
      unshare: config.buildNetwork ? 'unshare' : tool('unshare'),
    };
    const searchPath = identity
      ? SANDBOX_PATH
      : process.env.PATH ?? SANDBOX_PATH;
    const python = resolveExecutable(options.python, searchPath);
    // Resolved here, once, as `python` is: a manifest picks one of these
    // by its configured spelling and never supplies a path of its own.
    const allowed = new Map(
      (options.allowedPythons ?? []).map(p => [
        p,
        resolveExecutable(p, searchPath),
      ]),
    );
    const workDir = identity
      ? await reachableWorkDir(config, options.dataDir, identity, logger)
      : config.workDir ?? options.dataDir;
    await fs.promises.mkdir(workDir, { recursive: true });
    const runtimePythonPath = identity
      ? await copyRuntime(path.join(workDir, 'runtime'))
      : modelRuntimePythonPath;
    const sandbox = new Sandbox(
      config,
      identity,
      python,
      workDir,
      runtimePythonPath,
      process.env.LANG || 'C.UTF-8',
      tools,
      { configured: options.python, allowed },
    );
    await sandbox.prove(options.python, workDir);
    logger.info(
      identity
        ? `Model code runs as ${identity.user} (uid ${
            identity.uid
          }) with ${python}, limits ${describeLimits(config)}, build network ${
            config.buildNetwork ? 'on' : 'off'
          }`
        : `Model code runs as this backend's user (not root) with ${python}, limits ${describeLimits(
            config,
          )}, build network ${config.buildNetwork ? 'on' : 'off'}`,
    );
    return sandbox;
  }

  /**
   * The base interpreter a model's venv is made from: `mlPlatform.python`,
   * or the manifest's `spec.python` when `mlPlatform.builds.allowedPythons`
   * lists it exactly as spelled (vetted interpreters, e.g. one with numpy and
   * scikit-learn installed). Resolved at start on the sandbox's PATH, as
   * `python` is; nothing outside the list is ever resolved or run.
   */
  baseInterpreter(requested?: string): { python: string } | { error: string } {
    const { configured, allowed } = this.interpreters;
    if (requested === undefined || requested === configured) {
      return { python: this.python };
    }
    const resolved = allowed.get(requested);
    if (resolved === undefined) {
      return {
        error: `spec.python: ${requested} is not an interpreter this platform allows (mlPlatform.builds.allowedPythons: ${[
          configured,
          ...allowed.keys(),
        ].join(', ')})`,
      };
    }
    if (!path.isAbsolute(resolved)) {
      return {
        error: `spec.python: ${requested} is allowed (mlPlatform.builds.allowedPythons) but not installed on this host`,
      };
    }
    return { python: resolved };
  }

  /** The uid processes run as, when the backend is root. */
  get uid(): number | undefined {
    return this.identity?.uid;
  }

  /**
   * The minimal environment of a sandboxed process: PATH, HOME, LANG and
   * what the caller adds (the venv, pip settings); nothing else.
   */
  env(
    home: string,
    extra: Record<string, string | undefined> = {},
  ): Record<string, string> {
    const env: Record<string, string> = {
      PATH: SANDBOX_PATH,
      HOME: home,
      LANG: this.lang,
    };
    for (const [key, value] of Object.entries(extra)) {
      if (value !== undefined) env[key] = value;
    }
    return env;
  }

  /**
   * The command line that runs `command args` contained: limits, then (as
   * root) the sandbox user without privileges, and for builds without the
   * network when `buildNetwork` is off. Each wrapper execs the next, so the
   * pid is the command's own and signals reach it.
   */
  wrap(
    role: SandboxRole,
    command: string,
    args: string[],
  ): { command: string; args: string[] } {
    const { limits } = this.config;
    const argv: string[] = [];
    if (role === 'build' && !this.config.buildNetwork) {
      argv.push(
        this.tools.unshare,
        ...(this.identity
          ? ['--net']
          : ['--user', '--map-current-user', '--net']),
        '--',
      );
    }
    argv.push(
      this.tools.prlimit,
      `--as=${limits.memoryBytes}`,
      `--nofile=${limits.openFiles}`,
      // Online replicas run for weeks: CPU seconds would kill them in the end.
      ...(role === 'replica' ? [] : [`--cpu=${limits.cpuTimeSeconds}`]),
      '--',
    );
    if (this.identity) {
      argv.push(
        this.tools.setpriv,
        `--reuid=${this.identity.uid}`,
        `--regid=${this.identity.gid}`,
        '--clear-groups',
        '--no-new-privs',
        '--',
      );
    }
    argv.push(command, ...args);
    return { command: argv[0], args: argv.slice(1) };
  }

  /** How the local runtime starts replicas and workers of a model in `home`. */
  launcher(role: 'replica' | 'batch', home: string): ProcessLauncher {
    return {
      wrap: (command, args) => this.wrap(role, command, args),
      env: this.env(home),
      runtimePythonPath: this.runtimePythonPath,
    };
  }

  /**
   * Gives a directory tree to the sandbox user (symlinks are not followed)
   * and closes it to other users. Nothing to do when the backend is not root.
   */
  async own(dir: string): Promise<void> {
    if (!this.identity) return;
    const { uid, gid } = this.identity;
    await execFileAsync('chown', ['-R', '-P', '--', `${uid}:${gid}`, dir]);
    await fs.promises.chmod(dir, 0o700);
  }

  /**
   * A file of model code, read the way the sandbox user sees it: as root a
   * symlink in a repository must not hand out what only root can read.
   * Rejects with what `cat` said (no such file, permission denied) or when
   * the file is larger than `maxBytes`.
   */
  async readFile(file: string, maxBytes = 10 * 1024 * 1024): Promise<string> {
    if (!this.identity) {
      const stat = await fs.promises.stat(file);
      if (stat.size > maxBytes) {
        throw new Error(`${file} is larger than ${maxBytes} bytes`);
      }
      return fs.promises.readFile(file, 'utf8');
    }
    const { command, args } = this.wrap('build', 'cat', ['--', file]);
    try {
      const { stdout } = await execFileAsync(command, args, {
        cwd: '/',
        env: this.env('/'),
        maxBuffer: maxBytes,
        timeout: 30_000,
        encoding: 'utf8',
      });
      return stdout;
    } catch (error) {
      const e = error as { stderr?: string; code?: unknown };
      if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
        throw new Error(`${file} is larger than ${maxBytes} bytes`);
      }
      throw new Error(
        (e.stderr ?? '').trim().replace(/^cat: /, '') || `cannot read ${file}`,
      );
    }
  }

  /**
   * Whether a sandboxed process can read `file` (by its mode bits and
   * those of its directories), so workers may read it in place.
   */
  async canRead(file: string): Promise<boolean> {
    if (!this.identity) return true;
    const { uid, gid } = this.identity;
    const allows = (stat: fs.Stats, bit: number) => {
      if (stat.uid === uid) return (stat.mode & (bit << 6)) !== 0;
      if (stat.gid === gid) return (stat.mode & (bit << 3)) !== 0;
      return (stat.mode & bit) !== 0;
    };
    try {
      const real = await fs.promises.realpath(file);
      if (!allows(await fs.promises.stat(real), 4)) return false;
      for (let dir = path.dirname(real); ; dir = path.dirname(dir)) {
        if (!allows(await fs.promises.stat(dir), 1)) return false;
        if (dir === path.dirname(dir)) return true;
      }
    } catch {
      return false;
    }
  }

  /** Runs the interpreter as a build would, or throws what to change. */
  private async prove(configured: string, workDir: string) {
    const who = this.identity
      ? `the sandbox user ${this.identity.user} (mlPlatform.sandbox.user)`
      : 'this backend';
    // The work directory is passed through, the runtime's copy read.
    const probe = [
      'import os, sys, venv',
      'for p, mode in ((sys.argv[1], os.X_OK), (sys.argv[2], os.R_OK | os.X_OK)):',
      '    if not os.access(p, mode):',
      '        print("cannot reach " + p); sys.exit(3)',
      'print(sys.version.split()[0])',
    ].join('\n');
    const { command, args } = this.wrap('build', this.python, [
      '-c',
      probe,
      workDir,
      this.runtimePythonPath,
    ]);
    try {
      await execFileAsync(command, args, {
        cwd: '/',
        env: this.env('/'),
        timeout: 30_000,
      });
    } catch (error) {
      const e = error as { code?: unknown; stdout?: string; stderr?: string };
      const said = `${e.stdout ?? ''} ${e.stderr ?? ''}`.trim();
      if (said.includes('cannot reach')) {
        throw new SandboxSetupError(
          `${who} cannot reach the work directory ${workDir} (${said}): it or a directory above it is closed to that user. Builds, replicas and batch workers run there: set mlPlatform.sandbox.workDir to a directory that user can reach, e.g. /var/lib/ml-platform/work.`,
        );
      }
      throw new SandboxSetupError(
        `${who} cannot run the Python interpreter ${
          this.python
        } (mlPlatform.python: ${configured}) within the sandbox: ${
          said || (error as Error).message
        }. Set mlPlatform.python to an interpreter that user can execute, e.g. /usr/bin/python3 (an interpreter under /root, such as pyenv's, is closed to other users), and check that prlimit and setpriv (util-linux) are installed${
          this.config.buildNetwork
            ? ''
            : ' and unshare can make network namespaces'
        }.`,
      );
    }
  }
}

/**
 * The sandbox user must pass through the work directory (to its own
 * workspaces): the platform's own directory gets the search bit for
 * others, not the read bit (nobody lists what is in it).
 */
async function openForTraversal(dir: string) {
  const stat = await fs.promises.stat(dir);
  if (stat.uid !== process.getuid?.() || (stat.mode & 0o001) !== 0) return;
  await fs.promises.chmod(dir, (stat.mode & 0o7777) | 0o011);
}

/** Whether `identity` may pass through `dir` and every directory above it. */
async function canTraverse(dir: string, identity: Identity): Promise<boolean> {
  for (let d = dir; ; d = path.dirname(d)) {
    const stat = await fs.promises.stat(d).catch(() => undefined);
    if (!stat) return false;
    let bit = stat.mode & 0o001;
    if (stat.uid === identity.uid) bit = stat.mode & 0o100;
    else if (stat.gid === identity.gid) bit = stat.mode & 0o010;
    if (!bit) return false;
    if (d === path.dirname(d)) return true;
  }
}

/**
 * Where model code's files go. A configured `workDir` must be reachable by
 * the sandbox user. Unset, the data directory is used when it is (a
 * checkout under /root is not); otherwise a directory of the platform's
 * own under the system's temporary directory, said once at start.
 */
async function reachableWorkDir(
  config: SandboxConfig,
  dataDir: string,
  identity: Identity,
  logger: LoggerService,
): Promise<string> {
  const candidate = config.workDir ?? dataDir;
  await fs.promises.mkdir(candidate, { recursive: true });
  await openForTraversal(candidate);
  if (await canTraverse(candidate, identity)) return candidate;
  if (config.workDir) {
    throw new SandboxSetupError(
      `the sandbox user ${identity.user} (mlPlatform.sandbox.user) cannot reach mlPlatform.sandbox.workDir ${candidate}: it or a directory above it is closed to that user. Builds, replicas and batch workers run there: choose a directory that user can reach, e.g. /var/lib/ml-platform/work.`,
    );
  }
  const hash = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
  const fallback = path.join(os.tmpdir(), `${FALLBACK_PREFIX}${hash}`);
  await removeOrphanedWorkDirs();
  await ownPrivateDir(fallback);
  await fs.promises.writeFile(path.join(fallback, DATA_DIR_NOTE), dataDir);
  logger.info(
    `The sandbox user ${identity.user} cannot reach ${dataDir} (a directory above it is closed); model code works in ${fallback} instead. Set mlPlatform.sandbox.workDir to choose where.`,
  );
  return fallback;
}

/**
 * Work directories under the temporary directory whose data directory is
 * gone (a test's, a removed installation): nothing can use them again.
 */
async function removeOrphanedWorkDirs() {
  const names = await fs.promises.readdir(os.tmpdir()).catch(() => []);
  for (const name of names.filter(n => n.startsWith(FALLBACK_PREFIX))) {
    const dir = path.join(os.tmpdir(), name);
    try {
      const stat = await fs.promises.lstat(dir);
      if (!stat.isDirectory() || stat.uid !== process.getuid?.()) continue;
      const dataDir = await fs.promises.readFile(
        path.join(dir, DATA_DIR_NOTE),
        'utf8',
      );
      if (!fs.existsSync(dataDir)) {
        await fs.promises.rm(dir, { recursive: true, force: true });
      }
    } catch {
      // Not one of ours, or in use by a start right now.
    }
  }
}

/**
 * A directory only this process's user may write, passable by others:
 * made if missing; one already there must be a real directory of ours that
 * no one else can write (in a shared temporary directory, someone else may
 * have made it first).
 */
async function ownPrivateDir(dir: string) {
  try {
    await fs.promises.mkdir(dir, { mode: 0o711 });
    await fs.promises.chmod(dir, 0o711);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stat = await fs.promises.lstat(dir);
  if (
    !stat.isDirectory() ||
    stat.uid !== process.getuid?.() ||
    (stat.mode & 0o022) !== 0
  ) {
    throw new SandboxSetupError(
      `${dir} exists but is not a directory of this backend's that only it can write; remove it, or set mlPlatform.sandbox.workDir`,
    );
  }
}

function describeLimits(config: SandboxConfig) {
  const { limits } = config;
  return `CPU ${limits.cpuTimeSeconds} s, memory ${Math.round(
    limits.memoryBytes / 1024 ** 2,
  )} MiB, ${limits.openFiles} open files`;
}

async function lookupUser(user: string): Promise<Identity> {
  const id = async (flag: string) => {
    const { stdout } = await execFileAsync('id', [flag, '--', user]);
    return Number(stdout.trim());
  };
  let uid: number;
  let gid: number;
  try {
    uid = await id('-u');
    gid = await id('-g');
  } catch {
    throw new SandboxSetupError(
      `mlPlatform.sandbox.user: there is no user "${user}" on this host; model code must run as an unprivileged user when the backend runs as root`,
    );
  }
  if (uid === 0 || gid === 0) {
    throw new SandboxSetupError(
      `mlPlatform.sandbox.user: "${user}" is root; model code must run as an unprivileged user`,
    );
  }
  return { user, uid, gid };
}

/** An absolute path for `command`, looked up on `searchPath` when bare. */
function resolveExecutable(command: string, searchPath: string): string {
  if (command.includes('/')) return path.resolve(command);
  for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return command;
}

/**
 * Copies the runtime package (which may live in a checkout the sandbox user
 * cannot read) to `<dir>/<digest>`, readable by everyone; the same content
 * is copied once.
 */
async function copyRuntime(dir: string): Promise<string> {
  const source = path.join(modelRuntimePythonPath, 'mlp_runtime');
  // Sub-packages too (server/, batch/): every .py file, by relative path.
  const files = (await fs.promises.readdir(source, { recursive: true }))
    .filter(
      f => f.endsWith('.py') && !f.split(path.sep).includes('__pycache__'),
    )
    .sort();
  const hash = createHash('sha256');
  const contents = new Map<string, Buffer>();
  for (const file of files) {
    const bytes = await fs.promises.readFile(path.join(source, file));
    contents.set(file, bytes);
    hash.update(file).update('\0').update(bytes);
  }
  const target = path.join(dir, hash.digest('hex').slice(0, 16));
  if (fs.existsSync(path.join(target, 'mlp_runtime', '__init__.py'))) {
    return target;
  }
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o755 });
  await fs.promises.chmod(dir, 0o755);
  const staging = await fs.promises.mkdtemp(path.join(dir, '.staging-'));
  await fs.promises.mkdir(path.join(staging, 'mlp_runtime'));
  for (const [file, bytes] of contents) {
    const into = path.join(staging, 'mlp_runtime', path.dirname(file));
    if (!fs.existsSync(into)) {
      await fs.promises.mkdir(into, { recursive: true });
      await fs.promises.chmod(into, 0o755);
    }
    await fs.promises.writeFile(path.join(into, path.basename(file)), bytes, {
      mode: 0o644,
    });
  }
  await fs.promises.chmod(path.join(staging, 'mlp_runtime'), 0o755);
  await fs.promises.chmod(staging, 0o755);
  try {
    await fs.promises.rename(staging, target);
  } catch {
    // Another start copied the same content first.
    await fs.promises.rm(staging, { recursive: true, force: true });
  }
  return target;
}
