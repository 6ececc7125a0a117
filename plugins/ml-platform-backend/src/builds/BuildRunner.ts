import { LoggerService } from '@backstage/backend-plugin-api';
import {
  BuildStep,
  DEFAULT_MANIFEST_PATH,
  ManifestError,
  MlModelManifest,
  ModelBuild,
  parseManifest,
} from '@internal/plugin-ml-platform-common';
import {
  ArtifactStore,
  COMMIT_SHA,
  checkBranchNameSyntax,
  redactUrlCredentials,
  runGit,
} from '@internal/plugin-ml-platform-node';
import fs from 'node:fs';
import path from 'node:path';
import { MlPlatformStore, ModelRecord } from '../database/MlPlatformStore';
import { PlatformConfig } from '../platformConfig';
import { SANDBOX_PATH, Sandbox } from '../sandbox/Sandbox';
import { runProcess } from '../util/runProcess';
import { BuildLog } from './BuildLog';
import { GitRemotes } from './GitSource';
import {
  createVirtualenv,
  lastMeaningfulLine,
  pipEnv,
  requirementsToInstall,
} from './virtualenv';

/** The steps of every build, in order. */
export const BUILD_STEPS = [
  'checkout',
  'validate',
  'install',
  'test',
  'smoke',
  'package',
] as const;
export type BuildStepName = (typeof BUILD_STEPS)[number];

export function initialSteps(): BuildStep[] {
  return BUILD_STEPS.map(name => ({ name, status: 'pending' }));
}

/** A step failed; `message` is the one-sentence reason shown to users. */
class StepFailure extends Error {}

/** A step decided there is nothing to do. */
class StepSkipped extends Error {}

/**
 * Files of a build on this host. The root belongs to the backend; what
 * model code writes (`repo`, `venv`, `home`, `smokeOut`) belongs to the
 * sandbox user, and the backend never writes there.
 */
export function buildWorkspace(workDir: string, buildId: string) {
  const root = path.join(workDir, 'builds', buildId);
  return {
    root,
    repo: path.join(root, 'repo'),
    /** Link to the model directory inside the checkout, once built. */
    model: path.join(root, 'model'),
    venv: path.join(root, 'venv'),
    python: path.join(root, 'venv', 'bin', 'python'),
    /** HOME (and TMPDIR) of the build's commands. */
    home: path.join(root, 'home'),
    schemaFile: path.join(root, 'schema.json'),
    /** The smoke prediction's input, written by the backend. */
    smokeDir: path.join(root, 'smoke'),
    /** Its output, written by the model. */
    smokeOut: path.join(root, 'smoke-out'),
  };
}

interface RunState {
  build: ModelBuild;
  model: ModelRecord;
  log: BuildLog;
  signal: AbortSignal;
  ws: ReturnType<typeof buildWorkspace>;
  modelDir: string;
  manifest?: MlModelManifest;
}

/**
 * Runs one build: checkout, validate the manifest, install requirements in a
 * venv, the model's tests, a smoke prediction on the sample, and packaging
 * into the artifact store. Each step's status, duration and output is kept.
 */
export class BuildRunner {
  private readonly git: GitRemotes;

  constructor(
    private readonly options: {
      store: MlPlatformStore;
      artifactStore: ArtifactStore;
      config: PlatformConfig;
      git: GitRemotes;
      sandbox: Sandbox;
      logger: LoggerService;
    },
  ) {
    this.git = options.git;
  }

  /** Runs the build to its end; never throws, the outcome is in the store. */
  async run(build: ModelBuild, signal: AbortSignal): Promise<ModelBuild> {
    const { store, logger } = this.options;
    const log = new BuildLog(build.id, store, logger, this.git.secrets());
    const ws = buildWorkspace(this.options.sandbox.workDir, build.id);
    const model = await store.getModel(build.modelRef);
    const steps: BuildStep[] = build.steps.length
      ? build.steps
      : initialSteps();

    if (!model?.gitUrl) {
      return this.finish(
        build,
        steps,
        log,
        'failed',
        `The platform does not know where ${build.modelRef}'s code lives: register it with a Git URL or give its entity a source location`,
      );
    }

    const state: RunState = {
      build,
      model,
      log,
      signal,
      ws,
      modelDir: path.join(ws.repo, model.gitPath ?? ''),
    };
    log.write(
      undefined,
      `Build v${build.version} of ${build.modelRef} (${
        build.trigger
      }) from ${redactUrlCredentials(model.gitUrl)}`,
    );

    for (const step of steps) {
      if (step.status !== 'pending') continue;
      if (signal.aborted) break;
      const started = Date.now();
      step.status = 'running';
      step.startedAt = new Date(started).toISOString();
      await store.updateBuild(build.id, { steps });
      log.write(step.name, `==> ${step.name}`);
      try {
        await this.runStep(step.name as BuildStepName, state);
        step.status = 'succeeded';
      } catch (error) {
        const reason = signal.aborted
          ? String(signal.reason ?? 'Cancelled')
          : (error as Error).message;
        if (error instanceof StepSkipped && !signal.aborted) {
          step.status = 'skipped';
          step.message = error.message;
          log.write(step.name, `skipped: ${error.message}`);
        } else {
          step.status = signal.aborted ? 'cancelled' : 'failed';
          step.message = reason;
          log.write(step.name, `${step.status}: ${reason}`);
          if (!(error instanceof StepFailure) && !signal.aborted) {
            logger.warn(
              `Build ${build.id} step ${step.name} crashed: ${
                (error as Error).stack
              }`,
            );
          }
        }
      } finally {
        step.finishedAt = new Date().toISOString();
        step.durationMs = Date.now() - started;
      }
      if (step.status === 'failed' || step.status === 'cancelled') break;
      await store.updateBuild(build.id, { steps });
    }

    if (signal.aborted) {
      for (const s of steps) if (s.status === 'pending') s.status = 'cancelled';
      return this.finish(
        build,
        steps,
        log,
        'cancelled',
        String(signal.reason ?? 'Cancelled'),
        ws.root,
      );
    }
    const failed = steps.find(s => s.status === 'failed');
    if (failed) {
      for (const s of steps) if (s.status === 'pending') s.status = 'skipped';
      return this.finish(
        build,
        steps,
        log,
        'failed',
        `Step ${failed.name} failed: ${failed.message}`,
        ws.root,
      );
    }
    return this.finish(build, steps, log, 'succeeded');
  }

  private async finish(
    build: ModelBuild,
    steps: BuildStep[],
    log: BuildLog,
    status: 'succeeded' | 'failed' | 'cancelled',
    reason?: string,
    cleanupDir?: string,
  ): Promise<ModelBuild> {
    log.write(
      undefined,
      reason ? `Build ${status}: ${reason}` : `Build ${status}`,
    );
    await log.flush();
    if (cleanupDir) {
      // Failed builds keep only their logs; the workspace can be large.
      await fs.promises
        .rm(cleanupDir, { recursive: true, force: true })
        .catch(() => {});
    }
    return this.options.store.updateBuild(build.id, {
      status,
      steps,
      failureReason: status === 'succeeded' ? undefined : reason,
      finishedAt: new Date().toISOString(),
    });
  }

  private async runStep(name: BuildStepName, s: RunState) {
    switch (name) {
      case 'checkout':
        return this.checkout(s);
      case 'validate':
        return this.validate(s);
      case 'install':
        return this.install(s);
      case 'test':
        return this.test(s);
      case 'smoke':
        return this.smoke(s);
      case 'package':
        return this.package(s);
      default:
        throw new Error(`Unknown step ${name}`);
    }
  }

  private stepTimeout() {
    return this.options.config.builds.stepTimeoutMs;
  }

  /**
   * Runs a command of a step in the sandbox, its output going to the build
   * log (or to `stdout`).
   */
  private async exec(
    s: RunState,
    step: BuildStepName,
    command: string,
    args: string[],
    options: {
      cwd?: string;
      env?: Record<string, string>;
      stdout?: NodeJS.WritableStream;
    } = {},
  ) {
    const result = await runProcess({
      ...this.options.sandbox.wrap('build', command, args),
      cwd: options.cwd,
      env: options.env ?? this.venvEnv(s),
      timeoutMs: this.stepTimeout(),
      signal: s.signal,
      stdout: options.stdout,
      onLine: line => s.log.write(step, line),
    });
    if (result.timedOut) {
      throw new StepFailure(
        `timed out after ${Math.round(this.stepTimeout() / 1000)} s`,
      );
    }
    return result;
  }

  private async checkout(s: RunState) {
    const { build, model, ws } = s;
    // Checked again here: the row may predate the checks at registration.
    const urlProblem = this.git.problem(model.gitUrl!);
    if (urlProblem)
      throw new StepFailure(`the Git URL is refused: ${urlProblem}`);
    if (build.branch !== undefined && checkBranchNameSyntax(build.branch)) {
      throw new StepFailure('the branch is not a valid branch name');
    }
    if (build.commitSha !== undefined && !COMMIT_SHA.test(build.commitSha)) {
      throw new StepFailure('the commit is not a commit SHA');
    }
    const env = this.git.envFor(model.gitUrl!);
    await fs.promises.rm(ws.root, { recursive: true, force: true });
    await fs.promises.mkdir(ws.root, { recursive: true });
    const git = (args: string[], cwd?: string) =>
      runGit(args, {
        cwd,
        env,
        timeoutMs: this.stepTimeout(),
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
    const { sandbox } = this.options;
    await sandbox.own(ws.repo);
    for (const dir of [ws.venv, ws.home, ws.smokeOut]) {
      await fs.promises.mkdir(dir, { recursive: true });
      await sandbox.own(dir);
    }
    s.log.write('checkout', `HEAD is ${sha}: ${subject} (${author})`);
    s.build = await this.options.store.updateBuild(build.id, {
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
  }

  private async validate(s: RunState) {
    const manifestPath = s.model.manifestPath ?? DEFAULT_MANIFEST_PATH;
    const file = path.join(s.modelDir, manifestPath);
    let text: string;
    try {
      text = await this.options.sandbox.readFile(file, 1024 * 1024);
    } catch {
      throw new StepFailure(`${manifestPath} not found in the model directory`);
    }
    try {
      s.manifest = parseManifest(text);
    } catch (error) {
      if (error instanceof ManifestError) {
        error.problems.forEach(p =>
          s.log.write('validate', `${manifestPath}: ${p}`),
        );
        throw new StepFailure(
          `${manifestPath} is invalid: ${error.problems.join('; ')}`,
        );
      }
      throw error;
    }
    const { spec } = s.manifest;
    const moduleFile = `${spec.entrypoint
      .split(':')[0]
      .replace(/\./g, '/')}.py`;
    if (
      !fs.existsSync(path.join(s.modelDir, moduleFile)) &&
      !fs.existsSync(
        path.join(s.modelDir, moduleFile.replace(/\.py$/, '/__init__.py')),
      )
    ) {
      throw new StepFailure(`spec.entrypoint: ${moduleFile} does not exist`);
    }
    for (const [field, rel] of [
      ['spec.sample', spec.sample],
      ['spec.requirements', spec.requirements],
    ] as const) {
      if (rel && !fs.existsSync(path.join(s.modelDir, rel))) {
        throw new StepFailure(`${field}: ${rel} does not exist`);
      }
    }
    await fs.promises.writeFile(
      s.ws.schemaFile,
      JSON.stringify(spec.schema ?? {}),
    );
    await this.options.store.updateBuild(s.build.id, { manifest: s.manifest });
    s.log.write(
      'validate',
      `${manifestPath} is valid: entrypoint ${spec.entrypoint}`,
    );
  }

  private async install(s: RunState) {
    const { sandbox } = this.options;
    const result = await createVirtualenv({
      config: this.options.config,
      sandbox,
      venvDir: s.ws.venv,
      modelDir: s.modelDir,
      home: s.ws.home,
      requirements: await requirementsToInstall(
        sandbox,
        s.modelDir,
        s.manifest!.spec.requirements,
      ),
      onLine: line => s.log.write('install', line),
      signal: s.signal,
      timeoutMs: this.stepTimeout(),
    });
    if (result.timedOut) {
      throw new StepFailure(
        `timed out after ${Math.round(this.stepTimeout() / 1000)} s`,
      );
    }
    if (result.error) throw new StepFailure(result.error);
  }

  /**
   * The whole environment of the build's commands: `python3` is the build's
   * venv, HOME is in the workspace; nothing of the backend's environment.
   */
  private venvEnv(s: RunState): Record<string, string> {
    return this.options.sandbox.env(s.ws.home, {
      ...pipEnv(this.options.config.builds.pip),
      VIRTUAL_ENV: s.ws.venv,
      PATH: `${path.join(s.ws.venv, 'bin')}:${SANDBOX_PATH}`,
      TMPDIR: s.ws.home,
      PYTHONDONTWRITEBYTECODE: '1',
      PYTHONUNBUFFERED: '1',
    });
  }

  private async test(s: RunState) {
    const command = s.manifest!.spec.tests;
    if (!command)
      throw new StepSkipped('mlmodel.yaml declares no tests (spec.tests)');
    s.log.write('test', `$ ${command}`);
    const result = await this.exec(s, 'test', 'sh', ['-c', command], {
      cwd: s.modelDir,
    });
    if (result.exitCode !== 0) {
      // The assertion or exception says more than the runner's summary line.
      const tail = [...result.tail].reverse();
      const detail =
        tail.find(l => /\b\w*(Error|Exception)\b.*:/.test(l)) ??
        tail.find(l => /FAILED|failed/.test(l)) ??
        lastMeaningfulLine(result);
      throw new StepFailure(
        `the model's tests failed (exit ${result.exitCode})${
          detail ? `: ${detail.trim()}` : ''
        }`,
      );
    }
  }

  private async smoke(s: RunState) {
    const sample = s.manifest!.spec.sample;
    if (!sample)
      throw new StepSkipped('mlmodel.yaml declares no sample (spec.sample)');
    const { sandbox } = this.options;
    let rows: unknown;
    try {
      rows = JSON.parse(await sandbox.readFile(path.join(s.modelDir, sample)));
    } catch (error) {
      throw new StepFailure(
        `spec.sample: ${sample} is not valid JSON (${
          (error as Error).message
        })`,
      );
    }
    if (
      !Array.isArray(rows) ||
      rows.length === 0 ||
      rows.some(r => typeof r !== 'object' || r === null)
    ) {
      throw new StepFailure(
        `spec.sample: ${sample} must be a non-empty JSON list of input rows`,
      );
    }
    await fs.promises.mkdir(s.ws.smokeDir, { recursive: true });
    const input = path.join(s.ws.smokeDir, 'sample.jsonl');
    const output = path.join(s.ws.smokeOut, 'predictions.jsonl');
    await fs.promises.writeFile(
      input,
      rows.map(r => JSON.stringify(r)).join('\n'),
    );
    const result = await this.exec(
      s,
      'smoke',
      s.ws.python,
      [
        '-m',
        'mlp_runtime.batch',
        '--model-dir',
        s.modelDir,
        '--entrypoint',
        s.manifest!.spec.entrypoint,
        '--schema',
        s.ws.schemaFile,
        '--input',
        input,
        '--output',
        output,
      ],
      {
        cwd: s.modelDir,
        env: { ...this.venvEnv(s), PYTHONPATH: sandbox.runtimePythonPath },
      },
    );
    if (result.exitCode !== 0) {
      throw new StepFailure(
        `the smoke prediction on ${sample} failed: ${
          lastMeaningfulLine(result) ?? `exit ${result.exitCode}`
        }`,
      );
    }
    const predictions = (await sandbox.readFile(output, 64 * 1024 * 1024))
      .split('\n')
      .filter(Boolean);
    if (predictions.length !== rows.length) {
      throw new StepFailure(
        `the smoke prediction returned ${predictions.length} predictions for ${rows.length} rows`,
      );
    }
    predictions
      .slice(0, 3)
      .forEach(p => s.log.write('smoke', `prediction: ${p}`));
    s.log.write('smoke', `${predictions.length} predictions for ${sample}`);
  }

  private async package(s: RunState) {
    // tar reads the model as the sandbox user and writes to a pipe: the
    // backend writes the tarball, never into the sandbox user's files.
    const tarball = path.join(s.ws.root, 'model.tar.gz');
    const tar = await this.exec(
      s,
      'package',
      'tar',
      [
        '--exclude=.git',
        '--exclude=__pycache__',
        '--exclude=*.pyc',
        '-czf',
        '-',
        '-C',
        s.modelDir,
        '.',
      ],
      { stdout: fs.createWriteStream(tarball, { mode: 0o644 }) },
    );
    if (tar.exitCode !== 0) {
      throw new StepFailure(
        `tar failed: ${lastMeaningfulLine(tar) ?? `exit ${tar.exitCode}`}`,
      );
    }
    const name = s.build.modelRef.replace(/[^a-zA-Z0-9_.-]+/g, '_');
    const stored = await this.options.artifactStore.put(
      `builds/${name}/v${s.build.version}-${s.build.id}.tar.gz`,
      tarball,
    );
    await fs.promises.rm(tarball, { force: true });
    await this.options.store.updateBuild(s.build.id, {
      artifactUri: stored.uri,
      artifactDigest: stored.digest,
    });
    // Deployments on this host run the build from here (see BuildPackages).
    await fs.promises.symlink(
      path.relative(s.ws.root, s.modelDir) || '.',
      s.ws.model,
    );
    s.log.write(
      'package',
      `Stored ${stored.uri} (${stored.size} bytes, ${stored.digest})`,
    );
  }
}
