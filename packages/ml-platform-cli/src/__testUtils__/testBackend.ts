import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

/** A running portal backend on the embedded defaults. */
export interface TestBackend {
  url: string;
  /** The backend's static service token: it reads and invokes, never changes. */
  serviceToken: string;
  /** Its platform files; `git/examples.git` is the seeded example repository. */
  dataDir: string;
  stop(): Promise<void>;
}

const SCRIPT = path.resolve(
  __dirname,
  '../../../backend/scripts/test-backend.mjs',
);

/**
 * The backend named by `MLP_TEST_URL` (and `MLP_TEST_SERVICE_TOKEN`), or a
 * fresh one from packages/backend/scripts/test-backend.mjs, stopped by
 * `stop()`.
 */
export async function startTestBackend(): Promise<TestBackend> {
  if (process.env.MLP_TEST_URL) {
    return {
      url: process.env.MLP_TEST_URL,
      serviceToken: process.env.MLP_TEST_SERVICE_TOKEN ?? '',
      dataDir: process.env.MLP_TEST_DATA_DIR ?? '',
      stop: async () => {},
    };
  }
  const child: ChildProcess = spawn(process.execPath, [SCRIPT], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise(resolve => child.once('exit', resolve));
  const lines = readline.createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', code =>
      reject(
        new Error(`test-backend.mjs exited with ${code} before it was ready`),
      ),
    );
  });
  const { url, serviceToken, dataDir } = JSON.parse(first);
  return {
    url,
    serviceToken,
    dataDir,
    stop: async () => {
      // Closing its stdin stops the backend.
      child.stdin!.end();
      await exited;
    },
  };
}

/**
 * Pushes a branch where the churn model's own tests fail to the backend's
 * seeded repository, as a data scientist would; returns its name.
 */
export function pushFailingBranch(backend: TestBackend, work: string) {
  const branch = 'failing-tests';
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: work,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Ada',
        GIT_AUTHOR_EMAIL: 'ada@example.com',
        GIT_COMMITTER_NAME: 'Ada',
        GIT_COMMITTER_EMAIL: 'ada@example.com',
      },
      stdio: 'pipe',
    });
  fs.mkdirSync(work, { recursive: true });
  git(
    'clone',
    '--quiet',
    path.join(backend.dataDir, 'git', 'examples.git'),
    '.',
  );
  git('checkout', '--quiet', '-b', branch);
  fs.writeFileSync(
    path.join(work, 'churn', 'tests', 'test_fails.py'),
    "import unittest\n\n\nclass Fails(unittest.TestCase):\n    def test_fails(self):\n        self.fail('on purpose')\n",
  );
  git('add', '--all');
  git('commit', '--quiet', '-m', 'A test that fails');
  git('push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${branch}`);
  return branch;
}
