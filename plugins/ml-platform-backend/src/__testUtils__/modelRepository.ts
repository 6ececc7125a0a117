import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { runGit } from '@internal/plugin-ml-platform-node';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The example models shipped with the repository. */
export const examplesDir = path.resolve(
  resolvePackagePath('@internal/plugin-ml-platform-backend'),
  '../../examples/models',
);

const author = {
  GIT_AUTHOR_NAME: 'Ada Lovelace',
  GIT_AUTHOR_EMAIL: 'ada@example.com',
  GIT_COMMITTER_NAME: 'Ada Lovelace',
  GIT_COMMITTER_EMAIL: 'ada@example.com',
};

/**
 * A real bare Git repository holding example models in sub-directories, with
 * a working clone to commit and push changes from, as a data scientist would.
 */
export class ModelRepository {
  private constructor(
    readonly root: string,
    readonly barePath: string,
    readonly workPath: string,
  ) {}

  static async create(
    models: Record<string, string>,
    options: { branch?: string } = {},
  ): Promise<ModelRepository> {
    const root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-repo-'));
    const barePath = path.join(root, 'models.git');
    const workPath = path.join(root, 'work');
    const branch = options.branch ?? 'main';
    await runGit(['init', '--quiet', '--bare', '-b', branch, barePath]);
    await runGit(['clone', '--quiet', barePath, workPath]);
    await runGit(['checkout', '--quiet', '-b', branch], {
      cwd: workPath,
    }).catch(() => {});
    for (const [dir, example] of Object.entries(models)) {
      await fs.promises.cp(
        path.join(examplesDir, example),
        path.join(workPath, dir),
        {
          recursive: true,
          filter: src => !src.includes('__pycache__'),
        },
      );
    }
    const repo = new ModelRepository(root, barePath, workPath);
    await repo.commitAndPush('Add models', branch);
    return repo;
  }

  get url(): string {
    return pathToFileURL(this.barePath).href;
  }

  async writeFile(relativePath: string, content: string) {
    const file = path.join(this.workPath, relativePath);
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await fs.promises.writeFile(file, content);
  }

  /** Commits everything in the working clone and pushes; returns the SHA. */
  async commitAndPush(message: string, branch = 'main'): Promise<string> {
    await runGit(['add', '--all'], { cwd: this.workPath });
    await runGit(['commit', '--quiet', '--allow-empty', '-m', message], {
      cwd: this.workPath,
      env: author,
    });
    await runGit(['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`], {
      cwd: this.workPath,
    });
    return (await runGit(['rev-parse', 'HEAD'], { cwd: this.workPath })).trim();
  }

  async remove() {
    await fs.promises.rm(this.root, { recursive: true, force: true });
  }
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out waiting for ${options.what ?? 'a condition'}${
          last ? `: ${last}` : ''
        }`,
      );
    }
    await new Promise(r => setTimeout(r, options.intervalMs ?? 100));
  }
}
