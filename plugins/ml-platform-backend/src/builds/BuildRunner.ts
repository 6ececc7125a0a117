import { LoggerService } from '@backstage/backend-plugin-api';
import { BuildStep, ModelBuild } from '@internal/plugin-ml-platform-common';
import {
  ArtifactStore,
  redactUrlCredentials,
} from '@internal/plugin-ml-platform-node';
import fs from 'node:fs';
import path from 'node:path';
import { PlatformStores } from '../database';
import { PlatformConfig } from '../platformConfig';
import { Sandbox } from '../sandbox/Sandbox';
import { BuildLog } from './BuildLog';
import { GitRemotes } from './GitSource';
import {
  BUILD_STEPS,
  BuildContext,
  BuildStepName,
  BuildStepServices,
  StepFailure,
  StepSkipped,
  buildSteps,
} from './steps';
import { buildWorkspace } from './workspace';

export { BUILD_STEPS };
export type { BuildStepName };

export function initialSteps(): BuildStep[] {
  return BUILD_STEPS.map(name => ({ name, status: 'pending' }));
}

/**
 * Runs one build through its steps (builds/steps: checkout, validate the
 * manifest, install requirements in a venv, the model's tests, a smoke
 * prediction on the sample, packaging into the artifact store). Each step's
 * status, duration and output is kept.
 */
export class BuildRunner {
  private readonly services: BuildStepServices;

  constructor(
    private readonly options: {
      stores: Pick<PlatformStores, 'builds' | 'models'>;
      artifactStore: ArtifactStore;
      config: PlatformConfig;
      git: GitRemotes;
      sandbox: Sandbox;
      logger: LoggerService;
    },
  ) {
    const { stores, ...rest } = options;
    this.services = { ...rest, builds: stores.builds };
  }

  /** Runs the build to its end; never throws, the outcome is in the store. */
  async run(build: ModelBuild, signal: AbortSignal): Promise<ModelBuild> {
    const { stores, logger } = this.options;
    const log = new BuildLog(
      build.id,
      stores.builds,
      logger,
      this.options.git.secrets(),
    );
    const ws = buildWorkspace(this.options.sandbox.workDir, build.id);
    const model = await stores.models.getModel(build.modelRef);
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

    const context: BuildContext = {
      build,
      model,
      log,
      signal,
      ws,
      modelDir: path.join(ws.repo, model.gitPath ?? ''),
      services: this.services,
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
      await stores.builds.updateBuild(build.id, { steps });
      log.write(step.name, `==> ${step.name}`);
      try {
        await buildSteps[step.name as BuildStepName].run(context);
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
            logger.warn('build step crashed', {
              buildId: build.id,
              model: build.modelRef,
              step: step.name,
              error: (error as Error).stack,
            });
          }
        }
      } finally {
        step.finishedAt = new Date().toISOString();
        step.durationMs = Date.now() - started;
      }
      if (step.status === 'failed' || step.status === 'cancelled') break;
      await stores.builds.updateBuild(build.id, { steps });
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
    return this.options.stores.builds.updateBuild(build.id, {
      status,
      steps,
      failureReason: status === 'succeeded' ? undefined : reason,
      finishedAt: new Date().toISOString(),
    });
  }
}
