// Helpers for benchmarks that run against the real portal backend on its
// embedded defaults (packages/backend, app-config.yaml plus an overlay).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../..',
);
export const base = 'http://localhost:7007';
export const sleep = ms => new Promise(r => setTimeout(r, ms));

export async function waitUntil(check, timeoutMs, what, intervalMs = 25) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(intervalMs);
  }
}

export function git(args, cwd) {
  return execFileSync('git', args, {
    cwd,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Bench',
      GIT_AUTHOR_EMAIL: 'b@x',
      GIT_COMMITTER_NAME: 'Bench',
      GIT_COMMITTER_EMAIL: 'b@x',
    },
  })
    .toString()
    .trim();
}

/**
 * The median of `xs`: of an even count, the mean of the two middle values
 * (before 2026-12-05 the upper one, which read high by up to half the gap
 * between them: see bench/README.md, "Medians of an even count").
 */
export const median = xs => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** The median of `xs` with their range. */
export const spread = xs => {
  const sorted = [...xs].sort((a, b) => a - b);
  return { median: median(xs), min: sorted[0], max: sorted.at(-1) };
};

/** The value after `--name` on the command line, or `fallback`. */
export const option = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};

/**
 * Starts packages/backend with app-config.yaml and `overlay` (a YAML file,
 * or several, later ones winning), waits until it answers, and returns how
 * to call it and stop it.
 */
export async function startPortal({ overlay, env = {} }) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-bench-'));
  // As root, model code runs as the sandbox user, who must reach the data dir.
  fs.chmodSync(tmp, 0o755);
  const started = performance.now();
  // The repository's own yarn: a fresh machine has no global one.
  const child = spawn(
    process.execPath,
    [
      path.join(root, '.yarn/releases/yarn-4.13.0.cjs'),
      'start',
      '--config',
      '../../app-config.yaml',
      ...[overlay].flat().flatMap(file => ['--config', file]),
    ],
    {
      cwd: path.join(root, 'packages/backend'),
      env: {
        ...process.env,
        MLP_BENCH_DATA_DIR: path.join(tmp, 'data'),
        // e.g. --cpu-prof, to profile the backend during a benchmark
        ...(process.env.MLP_BENCH_NODE_OPTIONS
          ? { NODE_OPTIONS: process.env.MLP_BENCH_NODE_OPTIONS }
          : {}),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  const log = fs.createWriteStream(path.join(tmp, 'backend.log'));
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise(resolve => child.once('exit', resolve));
  // Stopped means gone: the next start needs the port (replicas get up to
  // 15 s to drain, so this can take a while).
  const stop = async () => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {}
    await Promise.race([exited, sleep(30_000)]);
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
    await waitUntil(
      async () => {
        const res = await fetch(`${base}/api/ml-platform/models`).catch(
          () => undefined,
        );
        return res === undefined;
      },
      30_000,
      'the backend to stop',
      200,
    ).catch(() => {});
  };
  process.on('exit', () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
  });
  await waitUntil(
    async () => (await fetch(`${base}/api/ml-platform/models`)).status === 401,
    300_000,
    'backend start',
    200,
  );
  const readyMs = performance.now() - started;
  // The documented service token (app-config.yaml's local fallback): what
  // other services call models with. Services only read and invoke, so
  // changes (register, build, deploy) go as the guest user, a member of
  // the example models' owning group.
  const token =
    process.env.ML_PLATFORM_SERVICE_TOKEN ?? 'local-dev-ml-platform-token';
  const headers = {
    Authorization: `Bearer ${token}`,
    'Content-Type': 'application/json',
  };
  // Changes (register, build, deploy, run) need a user allowed to change the
  // models: services may only read and invoke. Guest sign-in resolves to
  // user:default/guest, a member of the group owning the example models
  // (catalog-info.yaml); its ownership is read when the token is issued, so
  // the token is taken once the catalog holds that user.
  const userHeaders = await waitUntil(
    async () => {
      const user = await guestHeaders();
      const res = await fetch(
        `${base}/api/catalog/entities/by-name/user/default/guest`,
        { headers: user },
      );
      return res.ok ? guestHeaders() : undefined;
    },
    120_000,
    'the guest user in the catalog',
    250,
  );
  // The token carries the groups the catalog knew at sign-in: sign in again
  // once it has read the org.
  const signIn = async () => Object.assign(userHeaders, await guestHeaders());
  const send = (method, p, body) =>
    fetch(`${base}/api/ml-platform${p}`, {
      method,
      headers: userHeaders,
      body: body && JSON.stringify(body),
    });
  const api = async (method, p, body) => {
    let res;
    try {
      res = await send(method, p, body);
    } catch (error) {
      // A kept-alive connection the backend closed while the benchmark was
      // busy elsewhere for over 5 s (Node's keepAliveTimeout, e.g. during the
      // pandas script): the request never reached the backend, so it goes
      // again on a new connection.
      if (error?.cause?.code !== 'UND_ERR_SOCKET') throw error;
      res = await send(method, p, body);
    }
    if (!res.ok)
      throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : res.json();
  };
  api.signIn = signIn;
  return {
    tmp,
    api,
    headers,
    userHeaders,
    stop,
    readyMs,
    backendPid: child.pid,
    cleanup: () => fs.rmSync(tmp, { recursive: true, force: true }),
  };
}

/** Headers of a guest sign-in (app-config.yaml's guest provider). */
async function guestHeaders() {
  const res = await fetch(`${base}/api/auth/guest/refresh`);
  if (!res.ok) throw new Error(`guest sign-in: ${res.status}`);
  const { backstageIdentity } = await res.json();
  return {
    Authorization: `Bearer ${backstageIdentity.token}`,
    'Content-Type': 'application/json',
  };
}

/**
 * A bare repository holding a model (an example's name, or a directory), and
 * a working clone.
 */
export function createModelRepo(tmp, example = 'churn') {
  const source = path.isAbsolute(example)
    ? example
    : path.join(root, 'examples/models', example);
  const name = path.basename(source);
  // Local clone URLs must be under the platform's git root (<dataDir>/git).
  const bare = path.join(tmp, 'data', 'git', `${name}.git`);
  fs.mkdirSync(path.dirname(bare), { recursive: true });
  const work = path.join(tmp, `${name}-work`);
  git(['init', '-q', '--bare', '-b', 'main', bare]);
  git(['clone', '-q', bare, work]);
  fs.cpSync(source, work, {
    recursive: true,
    filter: s => !s.includes('__pycache__'),
  });
  git(['add', '-A'], work);
  git(['commit', '-qm', name], work);
  git(['push', '-q', 'origin', 'HEAD:main'], work);
  return { bare, work, url: pathToFileURL(bare).href };
}

/** Registers the model, builds it and waits for the build to succeed. */
export async function registerAndBuild(api, name, url) {
  // A fresh backend ingests the catalog in the background.
  await waitUntil(
    () => api('GET', `/models/default/${name}`),
    120_000,
    'the catalog',
    250,
  );
  // The guest owns the model through a group the catalog reads a little
  // later; a token from before that does not say so.
  await waitUntil(
    async () => {
      await api.signIn?.();
      return api('POST', `/models/default/${name}/register`, {
        gitUrl: url,
        defaultBranch: 'main',
      });
    },
    120_000,
    'ownership of the model (catalog relations)',
    500,
  );
  const { items } = await api('GET', `/models/default/${name}/builds`);
  const queued =
    items[0] ?? (await api('POST', `/models/default/${name}/builds`, {}));
  return waitUntil(
    async () => {
      const b = await api('GET', `/builds/${queued.id}`);
      if (b.status === 'failed')
        throw new Error(`build failed: ${b.failureReason}`);
      return b.status === 'succeeded' ? b : undefined;
    },
    120_000,
    'build',
  );
}

/**
 * Deploys `buildId` of the model online with one replica kept (no scale to
 * zero) and waits until it is ready; returns the deployment.
 */
export async function deployOnlineReady(api, buildId, name = 'churn') {
  const deployment = await api('POST', `/models/default/${name}/deployments`, {
    buildId,
    type: 'online',
    replicas: 1,
    minReplicas: 1,
  });
  await waitUntil(
    async () =>
      (await api('GET', `/deployments/${deployment.id}`)).status === 'ready',
    60_000,
    'ready',
    10,
  );
  return deployment;
}
