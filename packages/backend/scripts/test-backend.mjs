#!/usr/bin/env node
// A throwaway portal backend for tests of the clients (the `mlp` CLI, the
// Python SDK): this package started as `npm run portal` starts it, on the
// embedded defaults of app-config.yaml (SQLite, local runtime, guest sign-in,
// the seeded example models), with an overlay that keeps its state out of the
// checkout: in-memory databases, platform files in a temporary directory, a
// free port, no Git polling (tests build what they need), and a random
// service token.
//
//   node packages/backend/scripts/test-backend.mjs
//       prints {"url", "serviceToken", "dataDir", "logFile"} as one JSON line once the
//       backend answers, and stops it when stdin closes or on SIGINT/SIGTERM
//   node packages/backend/scripts/test-backend.mjs -- <command> [args...]
//       runs the command with MLP_TEST_URL, MLP_TEST_SERVICE_TOKEN and
//       MLP_TEST_DATA_DIR (its platform files: dataDir/git/examples.git is
//       the seeded repository of the example models) set,
//       then stops the backend and exits with the command's status
//
// Or import { startTestBackend } from this file.
/* eslint-disable no-console */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BACKEND_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
);
const START_TIMEOUT_MS = 5 * 60_000;
/** The models of the embedded defaults (app-config.yaml's catalog locations). */
const EXAMPLE_MODELS = [
  'component:default/churn',
  'component:default/sentiment',
];
const STOP_TIMEOUT_MS = 15_000;

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * Starts the backend and resolves once its ML platform API lists the example
 * models. `overlay` is merged over the test overlay.
 */
export async function startTestBackend(options = {}) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-test-backend-'));
  const port = options.port ?? (await freePort());
  const url = `http://localhost:${port}`;
  const serviceToken = randomBytes(24).toString('hex');
  const overlayFile = path.join(tmp, 'app-config.test.yaml');
  // JSON is YAML: no parser needed here.
  const overlay = {
    app: { baseUrl: url },
    backend: {
      baseUrl: url,
      listen: { port },
      cors: { origin: url },
      database: { client: 'better-sqlite3', connection: ':memory:' },
    },
    mlPlatform: {
      dataDir: path.join(tmp, 'data'),
      builds: { pollInterval: 0 },
      // The native data plane (enabled: auto) where nginx is installed, on
      // a port of its own: clients' tests go through it as users' calls do.
      gateway: { nginx: { port: await freePort() } },
    },
    ...options.overlay,
  };
  fs.writeFileSync(overlayFile, JSON.stringify(overlay, null, 2));

  const logFile = path.join(tmp, 'backend.log');
  const out = fs.openSync(logFile, 'a');
  // What `backstage-cli package start` runs, without its file watcher: a
  // test's backend does not restart (and lose its state) on an edit.
  const transform = createRequire(
    path.join(BACKEND_DIR, 'package.json'),
  ).resolve('@backstage/cli/config/nodeTransform.cjs');
  const child = spawn(
    process.execPath,
    [
      '--enable-source-maps',
      '--require',
      transform,
      'src/index.ts',
      '--config',
      '../../app-config.yaml',
      '--config',
      overlayFile,
    ],
    {
      cwd: BACKEND_DIR,
      // Its own process group: one signal stops it and the model servers.
      detached: true,
      stdio: ['ignore', out, out],
      env: {
        ...process.env,
        // As `package start` sets it: guest sign-in works in development only.
        NODE_ENV: 'development',
        ML_PLATFORM_SERVICE_TOKEN: serviceToken,
      },
    },
  );
  fs.closeSync(out);
  let exited = false;
  const exit = new Promise(resolve =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const killGroup = signal => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  const onExit = () => killGroup('SIGKILL');
  process.once('exit', onExit);

  let stopped;
  const stop = () => {
    stopped ??= (async () => {
      killGroup('SIGTERM');
      await Promise.race([exit, sleep(STOP_TIMEOUT_MS)]);
      killGroup('SIGKILL');
      process.removeListener('exit', onExit);
      if (!options.keep) fs.rmSync(tmp, { recursive: true, force: true });
    })();
    return stopped;
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exited) {
      const log = tail(logFile);
      await stop();
      throw new Error(`The backend exited while starting:\n${log}`);
    }
    // Ready once the catalog has read the example models.
    const models = await fetch(`${url}/api/ml-platform/models`, {
      headers: { Authorization: `Bearer ${serviceToken}` },
    })
      .then(r => (r.ok ? r.json() : undefined))
      .catch(() => undefined);
    const names = new Set(models?.items?.map(m => m.ref));
    if (EXAMPLE_MODELS.every(ref => names.has(ref))) break;
    if (Date.now() > deadline) {
      const log = tail(logFile);
      await stop();
      throw new Error(`The backend did not start in time:\n${log}`);
    }
    await sleep(250);
  }
  return {
    url,
    serviceToken,
    logFile,
    dataDir: overlay.mlPlatform.dataDir,
    stop,
  };
}

async function main(argv) {
  const dash = argv.indexOf('--');
  const command = dash >= 0 ? argv.slice(dash + 1) : [];
  const backend = await startTestBackend();
  const stopAndExit = async code => {
    await backend.stop();
    process.exit(code);
  };
  process.once('SIGINT', () => stopAndExit(130));
  process.once('SIGTERM', () => stopAndExit(143));

  if (command.length === 0) {
    console.log(
      JSON.stringify({
        url: backend.url,
        serviceToken: backend.serviceToken,
        dataDir: backend.dataDir,
        logFile: backend.logFile,
      }),
    );
    process.stdin.resume();
    process.stdin.once('end', () => stopAndExit(0));
    process.stdin.once('close', () => stopAndExit(0));
    return;
  }
  const child = spawn(command[0], command.slice(1), {
    stdio: 'inherit',
    env: {
      ...process.env,
      MLP_TEST_URL: backend.url,
      MLP_TEST_SERVICE_TOKEN: backend.serviceToken,
      MLP_TEST_DATA_DIR: backend.dataDir,
    },
  });
  child.once('error', error => {
    console.error(`${command[0]}: ${error.message}`);
    stopAndExit(127);
  });
  child.once('exit', (code, signal) => {
    if (code !== 0) {
      console.error(
        `The backend's log (last lines):\n${tail(backend.logFile)}`,
      );
    }
    stopAndExit(code ?? (signal ? 1 : 0));
  });
}

if (
  process.argv[1] &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  main(process.argv.slice(2)).catch(error => {
    console.error(error.message);
    process.exit(1);
  });
}
