import fs from 'node:fs';
import path from 'node:path';
import {
  COMMIT_SHA,
  checkBranchNameSyntax,
  redactUrlCredentials,
  runGit,
} from '@internal/plugin-ml-platform-node';
import { stepTimeout } from './commands';
import { BuildContext, BuildStepHandler, StepFailure } from './types';

/**
 * Clones the model's repository at the build's commit (or branch head) and
 * hands the checkout to the sandbox user; records the commit.
 */
export const checkoutStep: BuildStepHandler = {
  name: 'checkout',
  async run(s: BuildContext) {
    const { build, model, ws } = s;
    // Checked again here: the row may predate the checks at registration.
    const urlProblem = s.services.git.problem(model.gitUrl!);
    if (urlProblem)
      throw new StepFailure(`the Git URL is refused: ${urlProblem}`);
    if (build.branch !== undefined && checkBranchNameSyntax(build.branch)) {
      throw new StepFailure('the branch is not a valid branch name');
    }
    if (build.commitSha !== undefined && !COMMIT_SHA.test(build.commitSha)) {
      throw new StepFailure('the commit is not a commit SHA');
    }
    const env = s.services.git.envFor(model.gitUrl!);
    await fs.promises.rm(ws.root, { recursive: true, force: true });
    await fs.promises.mkdir(ws.root, { recursive: true });
    const git = (args: string[], cwd?: string) =>
      runGit(args, {
        cwd,
        env,
        timeoutMs: stepTimeout(s),
        signal: s.signal,
      });

    const branchArgs = build.branch ? ['--branch', build.branch] : [];
    s.log.write(
      'checkout',
      `git clone ${redactUrlCredentials(model.gitUrl!)} ${
        build.branch ? `(${build.branch})` : ''
      }`,
    );
    try {
      await git([
        'clone',
        '--quiet',
        '--no-checkout',
        ...branchArgs,
        '--',
        model.gitUrl!,
        ws.repo,
      ]);
      // `<commit> --`: the commit is a revision, never a path or an option.
      await git(
        ['checkout', '--quiet', build.commitSha ?? 'HEAD', '--'],
        ws.repo,
      );
    } catch (error) {
      throw new StepFailure((error as Error).message);
    }
    const [sha, author, subject] = (
      await git(['log', '-1', '--format=%H%n%an <%ae>%n%s'], ws.repo)
    ).split('\n');
    // The checkout is model code from here on: the sandbox user's. A model
    // directory that is a symlink out of the repository is refused.
    const realRepo = await fs.promises.realpath(ws.repo);
    const realModel = await fs.promises
      .realpath(s.modelDir)
      .catch(() => undefined);
    if (
      realModel &&
      realModel !== realRepo &&
      !realModel.startsWith(`${realRepo}${path.sep}`)
    ) {
      throw new StepFailure(
        `the model directory ${model.gitPath} leads outside the repository`,
      );
    }
    const { sandbox } = s.services;
    await sandbox.own(ws.repo);
    for (const dir of [ws.venv, ws.home, ws.smokeOut]) {
      await fs.promises.mkdir(dir, { recursive: true });
      await sandbox.own(dir);
    }
    s.log.write('checkout', `HEAD is ${sha}: ${subject} (${author})`);
    s.build = await s.services.builds.updateBuild(build.id, {
      commitSha: sha,
      commitAuthor: author,
      commitMessage: subject,
    });
    if (!fs.existsSync(s.modelDir)) {
      throw new StepFailure(
        `the model directory ${model.gitPath} does not exist at ${sha.slice(
          0,
          8,
        )}`,
      );
    }
  },
};
