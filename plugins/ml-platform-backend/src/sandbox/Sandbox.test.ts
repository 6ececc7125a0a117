import { mockServices } from '@backstage/backend-test-utils';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runProcess } from '../util/runProcess';
import { Sandbox, SandboxConfig } from './Sandbox';

const config: SandboxConfig = {
  user: 'nobody',
  limits: { cpuTimeSeconds: 60, memoryBytes: 2 * 1024 ** 3, openFiles: 256 },
  buildNetwork: true,
};
const isRoot = process.getuid?.() === 0;
const logger = mockServices.logger.mock();

describe('Sandbox', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-sandbox-'));
    await fs.promises.chmod(tmp, 0o755);
  });
  afterEach(() => fs.promises.rm(tmp, { recursive: true, force: true }));

  const create = (overrides: Partial<Parameters<typeof Sandbox.create>[0]>) =>
    Sandbox.create({
      config,
      python: 'python3',
      dataDir: path.join(tmp, 'data'),
      logger,
      ...overrides,
    });

  describe("baseInterpreter (a manifest's spec.python)", () => {
    const allowedPythons = ['/usr/bin/python3', 'sh', 'no-such-interpreter'];

    it('uses mlPlatform.python unless the manifest names an allowed interpreter', async () => {
      const sandbox = await create({ allowedPythons });
      expect(sandbox.baseInterpreter()).toEqual({ python: sandbox.python });
      expect(sandbox.baseInterpreter('python3')).toEqual({
        python: sandbox.python,
      });
      expect(sandbox.baseInterpreter('/usr/bin/python3')).toEqual({
        python: '/usr/bin/python3',
      });
      // A name is resolved at start on the sandbox's PATH, as python is.
      const sh = sandbox.baseInterpreter('sh');
      expect(sh).toEqual({ python: expect.stringMatching(/^\/.*\/sh$/) });
    });

    it('refuses any other interpreter, naming the field and what is allowed', async () => {
      const sandbox = await create({ allowedPythons });
      const refused = (p: string) => ({
        error: `spec.python: ${p} is not an interpreter this platform allows (mlPlatform.builds.allowedPythons: python3, /usr/bin/python3, sh, no-such-interpreter)`,
      });
      for (const escape of [
        '/tmp/python3',
        '/usr/bin/../bin/python3',
        '/usr/bin/python3 ',
        './sh',
        'python3.11',
        '--version',
      ]) {
        expect(sandbox.baseInterpreter(escape)).toEqual(refused(escape));
      }
      expect(sandbox.baseInterpreter('no-such-interpreter')).toEqual({
        error:
          'spec.python: no-such-interpreter is allowed (mlPlatform.builds.allowedPythons) but not installed on this host',
      });
      // Without an allow-list only mlPlatform.python is allowed.
      expect((await create({})).baseInterpreter('/usr/bin/python3')).toEqual({
        error:
          'spec.python: /usr/bin/python3 is not an interpreter this platform allows (mlPlatform.builds.allowedPythons: python3)',
      });
    });
  });

  it('wraps commands in limits, the unprivileged user and, for builds without network, a network namespace', async () => {
    const sandbox = await create({
      config: { ...config, buildNetwork: false },
    });
    const { command, args } = sandbox.wrap('build', 'sh', ['-c', 'id']);
    const argv = [command, ...args];
    expect(command).toMatch(/^\/.*\/unshare$/);
    expect(args.slice(0, isRoot ? 2 : 4)).toEqual(
      isRoot
        ? ['--net', '--']
        : ['--user', '--map-current-user', '--net', '--'],
    );
    expect(argv).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/.*\/prlimit$/),
        `--as=${2 * 1024 ** 3}`,
        '--nofile=256',
        '--cpu=60',
      ]),
    );
    expect(argv.some(a => a.endsWith('/setpriv'))).toBe(isRoot);
    expect(argv.slice(-4)).toEqual(['--', 'sh', '-c', 'id']);
    // Replicas run for weeks: no CPU seconds, and always the network.
    const replica = sandbox.wrap('replica', 'python', []);
    expect(replica.args).not.toContain('--cpu=60');
    expect(replica.command).toMatch(/prlimit$/);
  });

  it('gives processes PATH, HOME and LANG, and only what the caller adds', async () => {
    const sandbox = await create({});
    process.env.MLP_SANDBOX_TEST_SECRET = 'x';
    try {
      expect(
        Object.keys(sandbox.env('/h', { A: 'b', B: undefined })).sort(),
      ).toEqual(['A', 'HOME', 'LANG', 'PATH']);
    } finally {
      delete process.env.MLP_SANDBOX_TEST_SECRET;
    }
  });

  (isRoot ? describe : describe.skip)('as root', () => {
    it('drops to the sandbox user without privileges', async () => {
      const sandbox = await create({});
      expect(sandbox.wrap('batch', 'python', []).args).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^\/.*\/setpriv$/),
          `--reuid=${sandbox.uid}`,
          '--clear-groups',
          '--no-new-privs',
        ]),
      );
    });

    it('refuses root and unknown users as the sandbox user', async () => {
      await expect(
        create({ config: { ...config, user: 'root' } }),
      ).rejects.toThrow(/mlPlatform.sandbox.user: "root" is root/);
      await expect(
        create({ config: { ...config, user: 'no-such-user-mlp' } }),
      ).rejects.toThrow(/there is no user "no-such-user-mlp"/);
    });

    it('stops the start when the interpreter is closed to the sandbox user, instead of running as root', async () => {
      const closed = path.join(tmp, 'closed');
      await fs.promises.mkdir(closed, { mode: 0o700 });
      // Like pyenv's shims under /root: a script in a directory only root enters.
      await fs.promises.writeFile(
        path.join(closed, 'python3'),
        '#!/bin/sh\nexec /usr/bin/python3 "$@"\n',
        { mode: 0o755 },
      );
      await expect(
        create({ python: path.join(closed, 'python3') }),
      ).rejects.toThrow(
        /the sandbox user nobody \(mlPlatform.sandbox.user\) cannot run the Python interpreter .*closed\/python3.*Set mlPlatform.python to an interpreter that user can execute, e.g. \/usr\/bin\/python3/,
      );
    });

    it('works outside a data directory closed to the sandbox user (a checkout under /root), and refuses a closed workDir', async () => {
      const closed = path.join(tmp, 'closed');
      await fs.promises.mkdir(closed, { mode: 0o700 });
      const dataDir = path.join(closed, 'data');
      const sandbox = await create({ dataDir });
      try {
        expect(sandbox.workDir).toMatch(
          new RegExp(`^${os.tmpdir()}/ml-platform-work-[0-9a-f]{12}$`),
        );
        const stat = await fs.promises.stat(sandbox.workDir);
        expect(stat.mode & 0o777).toBe(0o711);
        expect(sandbox.runtimePythonPath.startsWith(sandbox.workDir)).toBe(
          true,
        );
        // The same data directory finds the same work directory again.
        expect((await create({ dataDir })).workDir).toBe(sandbox.workDir);
        // Once the data directory is gone, the next start removes it.
        await fs.promises.rm(dataDir, { recursive: true });
        const other = await create({ dataDir: path.join(closed, 'other') });
        expect(fs.existsSync(sandbox.workDir)).toBe(false);
        await fs.promises.rm(other.workDir, { recursive: true, force: true });
      } finally {
        await fs.promises.rm(sandbox.workDir, { recursive: true, force: true });
      }
      await expect(
        create({
          config: { ...config, workDir: path.join(closed, 'work') },
        }),
      ).rejects.toThrow(
        /cannot reach mlPlatform.sandbox.workDir .*closed\/work: it or a directory above it is closed to that user/,
      );
    });

    it('refuses a work directory someone else made first in the shared temporary directory', async () => {
      const closed = path.join(tmp, 'closed');
      await fs.promises.mkdir(closed, { mode: 0o700 });
      const dataDir = path.join(closed, 'data');
      const first = await create({ dataDir });
      await fs.promises.chmod(first.workDir, 0o777);
      try {
        await expect(create({ dataDir })).rejects.toThrow(
          /exists but is not a directory of this backend's that only it can write/,
        );
      } finally {
        await fs.promises.rm(first.workDir, { recursive: true, force: true });
      }
    });

    it('copies the whole runtime, sub-packages included, where the sandbox user imports it', async () => {
      const sandbox = await create({});
      const { command, args } = sandbox.wrap('batch', sandbox.python, [
        '-c',
        'import mlp_runtime.server.app, mlp_runtime.batch.worker; print("ok")',
      ]);
      const result = await runProcess({
        command,
        args,
        env: sandbox.env(tmp, { PYTHONPATH: sandbox.runtimePythonPath }),
      });
      expect(result.tail.join('\n')).toBe('ok');
      expect(result.exitCode).toBe(0);
    });

    it('reads model files as the sandbox user: a symlink to a root-only file gives nothing', async () => {
      const sandbox = await create({});
      const secret = path.join(tmp, 'secret');
      await fs.promises.writeFile(secret, 'root only', { mode: 0o600 });
      const repo = path.join(tmp, 'repo');
      await fs.promises.mkdir(repo);
      await fs.promises.symlink(secret, path.join(repo, 'mlmodel.yaml'));
      await fs.promises.writeFile(path.join(repo, 'sample.json'), '[]');
      await sandbox.own(repo);
      await expect(
        sandbox.readFile(path.join(repo, 'mlmodel.yaml')),
      ).rejects.toThrow(/Permission denied/);
      expect(await sandbox.readFile(path.join(repo, 'sample.json'))).toBe('[]');
      expect(await sandbox.canRead(secret)).toBe(false);
      expect(await sandbox.canRead(path.join(repo, 'sample.json'))).toBe(true);
      // own() does not follow the symlink to the root-only file.
      expect((await fs.promises.stat(secret)).uid).toBe(0);
      expect(
        (await fs.promises.lstat(path.join(repo, 'sample.json'))).uid,
      ).toBe(sandbox.uid);
    });
  });
});
