import { LoggerService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import {
  MlModelManifest,
  ModelBuild,
  validateManifest,
} from '@internal/plugin-ml-platform-common';
import { runtimeSchemaJson } from '@internal/ml-platform-model-runtime';
import {
  ArtifactStore,
  ModelBuildArtifact,
  ModelPackage,
  ModelPackages,
} from '@internal/plugin-ml-platform-node';
import fs from 'node:fs';
import path from 'node:path';
import { PlatformStores } from '../database';
import { PlatformConfig } from '../platformConfig';
import { builtOnThisHost, madeInSandbox } from '../builds/workspace';
import { createVirtualenv, requirementsToInstall } from '../builds/virtualenv';
import { Sandbox } from '../sandbox/Sandbox';
import { runProcess } from '../util/runProcess';

/**
 * Describes a succeeded build for runtimes ({@link ModelBuildArtifact}: its
 * artifact and how to run it) and turns it into a {@link ModelPackage} on this
 * host: the build's own workspace when it is still here, otherwise the
 * artifact is downloaded (digest checked), unpacked and given a fresh
 * virtualenv.
 */
export class BuildPackages implements ModelPackages {
  private readonly inFlight = new Map<string, Promise<ModelPackage>>();

  constructor(
    private readonly options: {
      stores: Pick<PlatformStores, 'builds'>;
      artifactStore: ArtifactStore;
      config: PlatformConfig;
      sandbox: Sandbox;
      logger: LoggerService;
    },
  ) {}

  async manifestOf(build: ModelBuild): Promise<MlModelManifest> {
    const manifest = await this.options.stores.builds.getBuildManifest(
      build.id,
    );
    if (!manifest) {
      throw new InputError(`Build ${build.id} has no validated manifest`);
    }
    return validateManifest(manifest);
  }

  /** What a runtime needs to run a succeeded build, wherever it runs it. */
  async artifactOf(build: ModelBuild): Promise<ModelBuildArtifact> {
    if (
      build.status !== 'succeeded' ||
      !build.artifactUri ||
      !build.artifactDigest
    ) {
      throw new InputError(
        `Build ${build.id} did not succeed; only succeeded builds can run`,
      );
    }
    const manifest = await this.manifestOf(build);
    return {
      buildId: build.id,
      modelRef: build.modelRef,
      buildVersion: build.version,
      entrypoint: manifest.spec.entrypoint,
      schema: manifest.spec.schema,
      interface: manifest.spec.interface ?? 'records',
      basePython: manifest.spec.python,
      requirements: manifest.spec.requirements ?? 'requirements.txt',
      artifactUri: build.artifactUri,
      artifactDigest: build.artifactDigest,
    };
  }

  get(build: ModelBuildArtifact): Promise<ModelPackage> {
    let pending = this.inFlight.get(build.buildId);
    if (!pending) {
      pending = this.resolve(build).finally(() =>
        this.inFlight.delete(build.buildId),
      );
      this.inFlight.set(build.buildId, pending);
    }
    return pending;
  }

  private async resolve(build: ModelBuildArtifact): Promise<ModelPackage> {
    // The build's own workspace when it was built here.
    const built = await builtOnThisHost(this.options.sandbox, build.buildId);
    if (built) return { ...build, ...built };
    return { ...build, ...(await this.materialize(build)) };
  }

  /**
   * Unpacks a build on this host. The root and the schema file belong to
   * the backend; the model, its venv and HOME to the sandbox user, who
   * unpacks and installs them.
   */
  private async materialize(build: ModelBuildArtifact) {
    const { sandbox } = this.options;
    const root = path.join(sandbox.workDir, 'packages', build.buildId);
    const modelDir = path.join(root, 'model');
    const venvDir = path.join(root, 'venv');
    const home = path.join(root, 'home');
    const python = path.join(venvDir, 'bin', 'python');
    const schemaFile = path.join(root, 'schema.json');
    const ready = path.join(root, '.ready');
    if (fs.existsSync(ready) && (await madeInSandbox(sandbox, modelDir))) {
      return { modelDir, python, schemaFile };
    }

    this.options.logger.info('unpacking build', {
      buildId: build.buildId,
      model: build.modelRef,
      artifactUri: build.artifactUri,
    });
    await fs.promises.rm(root, { recursive: true, force: true });
    for (const dir of [modelDir, venvDir, home]) {
      await fs.promises.mkdir(dir, { recursive: true, mode: 0o755 });
      await sandbox.own(dir);
    }
    const tarball = path.join(root, 'model.tar.gz');
    await this.options.artifactStore.download(
      build.artifactUri,
      tarball,
      build.artifactDigest,
    );
    await fs.promises.chmod(tarball, 0o644);
    const tar = await runProcess({
      ...sandbox.wrap('build', 'tar', [
        '--no-same-owner',
        '-xzf',
        tarball,
        '-C',
        modelDir,
      ]),
      cwd: home,
      env: sandbox.env(home),
    });
    if (tar.exitCode !== 0) {
      throw new Error(
        `Could not unpack ${build.artifactUri}: ${tar.tail.join(' ')}`,
      );
    }
    await fs.promises.rm(tarball);
    await fs.promises.writeFile(schemaFile, runtimeSchemaJson(build));
    const venv = await createVirtualenv({
      config: this.options.config,
      sandbox,
      venvDir,
      modelDir,
      home,
      python: build.basePython,
      requirements: await requirementsToInstall(
        sandbox,
        modelDir,
        build.requirements,
      ),
      onLine: line =>
        this.options.logger.debug(`[package ${build.buildId}] ${line}`),
      timeoutMs: this.options.config.builds.stepTimeoutMs,
    });
    if (venv.error || venv.timedOut) {
      throw new Error(
        `Could not install build ${build.buildId}: ${
          venv.error ?? 'timed out'
        }`,
      );
    }
    // Written last: a crash half-way leaves no marker and the next call redoes it.
    await fs.promises.writeFile(ready, new Date().toISOString());
    return { modelDir, python, schemaFile };
  }
}
