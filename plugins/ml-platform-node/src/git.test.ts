import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GitCommandError, runGit } from './git';

describe('runGit', () => {
  it('runs git and returns its output', async () => {
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-git-'));
    await runGit(['init', '-q', '-b', 'main', dir]);
    expect(
      (await runGit(['rev-parse', '--git-dir'], { cwd: dir })).trim(),
    ).toBe('.git');
    await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('rejects with what git printed', async () => {
    const error = await runGit([
      'ls-remote',
      'file:///nonexistent/repo.git',
    ]).catch(e => e);
    expect(error).toBeInstanceOf(GitCommandError);
    expect(error.exitCode).toBe(128);
    expect(error.message).toMatch(
      /^git ls-remote failed \(exit 128\): .*nonexistent/,
    );
  });
});
