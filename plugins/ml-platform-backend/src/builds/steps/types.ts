import { LoggerService } from '@backstage/backend-plugin-api';
import {
  MlModelManifest,
  ModelBuild,
} from '@internal/plugin-ml-platform-common';
import { ArtifactStore } from '@internal/plugin-ml-platform-node';
import { BuildStore, ModelRecord } from '../../database';
import { PlatformConfig } from '../../platformConfig';
import { Sandbox } from '../../sandbox/Sandbox';
import { BuildLog } from '../BuildLog';
import { GitRemotes } from '../GitSource';
import { BuildWorkspace } from '../workspace';

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

/** A step failed; `message` is the one-sentence reason shown to users. */
export class StepFailure extends Error {}

/** A step decided there is nothing to do. */
export class StepSkipped extends Error {}

/** What the steps of a build work with. */
export interface BuildStepServices {
  builds: BuildStore;
  artifactStore: ArtifactStore;
  config: PlatformConfig;
  git: GitRemotes;
  sandbox: Sandbox;
  logger: LoggerService;
}

/** One build as its steps see it; a step may fill in what later ones use. */
export interface BuildContext {
  build: ModelBuild;
  model: ModelRecord;
  log: BuildLog;
  signal: AbortSignal;
  ws: BuildWorkspace;
  /** The model directory inside the checkout. */
  modelDir: string;
  /** The validated mlmodel.yaml, once the validate step ran. */
  manifest?: MlModelManifest;
  services: BuildStepServices;
}

/**
 * One step of a build. It resolves when done, throws StepSkipped when there
 * is nothing to do and StepFailure (or anything else) when the build fails.
 */
export interface BuildStepHandler {
  readonly name: BuildStepName;
  run(ctx: BuildContext): Promise<void>;
}
