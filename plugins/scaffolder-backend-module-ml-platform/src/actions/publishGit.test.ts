import { ConfigReader } from '@backstage/config';
import { runGit } from '@internal/plugin-ml-platform-node';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPublishGitAction } from './publishGit';

describe('ml-platform:publish:git', () => {
  let tmp: string;
  let workspacePath: string;
  let gitRoot: string;

  beforeEach(async () => {
    tmp = await fs.promises.mkdtemp(
      path.join(os.tmpdir(), 'mlp-publish-test-'),
    );
    workspacePath = path.join(tmp, 'workspace');
    gitRoot = path.join(tmp, 'git');
    await fs.promises.mkdir(path.join(workspacePath, 'model', 'tests'), {
      recursive: true,
    });
    await fs.promises.writeFile(
      path.join(workspacePath, 'model', 'mlmodel.yaml'),
      'kind: Model\n',
    );
    await fs.promises.writeFile(
      path.join(workspacePath, 'model', 'tests', 'test_x.py'),
      '# t\n',
    );
    await fs.promises.writeFile(
      path.join(workspacePath, 'README.md'),
      '# top\n',
    );
  });
  afterEach(() => fs.promises.rm(tmp, { recursive: true, force: true }));

  const action = () =>
    createPublishGitAction({
      config: new ConfigReader({ mlPlatform: { git: { root: gitRoot } } }),
    });

  it('creates a bare repository holding the workspace and says where', async () => {
    const ctx = createMockActionContext({
      workspacePath,
      input: { repoName: 'churn-v2', commitMessage: 'Create churn-v2' },
    });
    await action().handler(ctx);

    const repoPath = path.join(gitRoot, 'churn-v2.git');
    expect(ctx.output).toHaveBeenCalledWith('repoPath', repoPath);
    expect(ctx.output).toHaveBeenCalledWith('repoUrl', `file://${repoPath}`);
    expect(ctx.output).toHaveBeenCalledWith('defaultBranch', 'main');
    const files = await runGit(['ls-tree', '-r', '--name-only', 'main'], {
      cwd: repoPath,
    });
    expect(files.trim().split('\n').sort()).toEqual([
      'README.md',
      'model/mlmodel.yaml',
      'model/tests/test_x.py',
    ]);
    const log = await runGit(['log', '--format=%s|%H', 'main'], {
      cwd: repoPath,
    });
    const [subject, hash] = log.trim().split('|');
    expect(subject).toBe('Create churn-v2');
    expect(ctx.output).toHaveBeenCalledWith('commitHash', hash);
    // The workspace itself is not turned into a repository.
    expect(fs.existsSync(path.join(workspacePath, '.git'))).toBe(false);

    // A clone from the URL works like any Git server.
    const clone = path.join(tmp, 'clone');
    await runGit(['clone', '--quiet', `file://${repoPath}`, clone]);
    expect(fs.existsSync(path.join(clone, 'model', 'mlmodel.yaml'))).toBe(true);
  });

  it('publishes a sub-directory on the chosen branch', async () => {
    const ctx = createMockActionContext({
      workspacePath,
      input: { repoName: 'm', sourcePath: 'model', defaultBranch: 'trunk' },
    });
    await action().handler(ctx);
    const files = await runGit(['ls-tree', '-r', '--name-only', 'trunk'], {
      cwd: path.join(gitRoot, 'm.git'),
    });
    expect(files.trim().split('\n').sort()).toEqual([
      'mlmodel.yaml',
      'tests/test_x.py',
    ]);
  });

  it('refuses bad input, naming the field, and creates nothing', async () => {
    await expect(
      action().handler(
        createMockActionContext({
          workspacePath,
          input: { repoName: 'Bad Name' },
        }),
      ),
    ).rejects.toThrow(/^input.repoName: expected lowercase letters/);
    await expect(
      action().handler(
        createMockActionContext({
          workspacePath,
          input: {} as { repoName: string },
        }),
      ),
    ).rejects.toThrow('input.repoName: is required');
    await expect(
      action().handler(
        createMockActionContext({
          workspacePath,
          input: { repoName: 'x', sourcePath: '../../etc' },
        }),
      ),
    ).rejects.toThrow(/outside/);
    expect(fs.existsSync(gitRoot) ? fs.readdirSync(gitRoot) : []).toEqual([]);
  });

  it('never overwrites an existing repository', async () => {
    await action().handler(
      createMockActionContext({ workspacePath, input: { repoName: 'dup' } }),
    );
    await expect(
      action().handler(
        createMockActionContext({ workspacePath, input: { repoName: 'dup' } }),
      ),
    ).rejects.toThrow(/Repository dup already exists/);
  });
});
