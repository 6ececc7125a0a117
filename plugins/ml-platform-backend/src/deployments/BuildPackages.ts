import { LoggerService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import {
  MlModelManifest,
  ModelBuild,
  validateManifest,
} from '@internal/plugin-ml-platform-common';
import { ArtifactStore, ModelPackage } from '@internal/plugin-ml-platform-node';
import fs from 'node:fs';
import path from 'node:path';
import { MlPlatformStore } from '../database/MlPlatformStore';
import { PlatformConfig } from '../platformConfig';
import { buildWorkspace } from '../builds/BuildRunner';
import { createVirtualenv, requirementsToInstall } from '../builds/virtualenv';
import { Sandbox } from '../sandbox/Sandbox';
import { runProcess } from '../util/runProcess';

/**
 * Turns a succeeded build into a {@link ModelPackage} on this host: the
 * build's own workspace when it is still here, otherwise the artifact is
 * downloaded (digest checked), unpacked and given a fresh virtualenv.
 */
export class BuildPackages {
  private readonly inFlight = new Map<string, Promise<ModelPackage>>();

  constructor(
    private readonly options: {
      store: MlPlatformStore;
      artifactStore: ArtifactStore;
      config: PlatformConfig;
      sandbox: Sandbox;
      logger: LoggerService;
    },
  ) {}

  async manifestOf(build: ModelBuild): Promise<MlModelManifest> {
    const manifest = await this.options.store.getBuildManifest(build.id);
    if (!manifest) {
      throw new InputError(`Build ${build.id} has no validated manifest`);
    }
    return validateManifest(manifest);
  }

  get(build: ModelBuild): Promise<ModelPackage> {
    let pending = this.inFlight.get(build.id);
    if (!pending) {
      pending = this.resolve(build).finally(() =>
        this.inFlight.delete(build.id),
      );
      this.inFlight.set(build.id, pending);
    }
    return pending;
  }

  private async resolve(build: ModelBuild): Promise<ModelPackage> {
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
    const ws = buildWorkspace(this.options.sandbox.workDir, build.id);
    const base = {
      buildId: build.id,
      modelRef: build.modelRef,
      buildVersion: build.version,
      entrypoint: manifest.spec.entrypoint,
      artifactUri: build.artifactUri,
      artifactDigest: build.artifactDigest,
    };
    if (
      fs.existsSync(ws.model) &&
      fs.existsSync(ws.python) &&
      (await this.madeInSandbox(ws.repo))
    ) {
      return {
        ...base,
        modelDir: ws.model,
        python: ws.python,
        schemaFile: ws.schemaFile,
      };
    }
    return { ...base, ...(await this.materialize(build, manifest)) };
  }

  /**
   * Whether a build's workspace was made for the current sandbox user (a
   * build from before, e.g. made as root, is unpacked again instead).
   */
  private async madeInSandbox(dir: string): Promise<boolean> {
    const { uid } = this.options.sandbox;
    if (uid === undefined) return true;
    const stat = await fs.promises.stat(dir).catch(() => undefined);
    return stat?.uid === uid;
  }

  /**
   * Unpacks a build on this host. The root and the schema file belong to
   * the backend; the model, its venv and HOME to the sandbox user, who
   * unpacks and installs them.
   */
  private async materialize(build: ModelBuild, manifest: MlModelManifest) {
    const { sandbox } = this.options;
    const root = path.join(sandbox.workDir, 'packages', build.id);
    const modelDir = path.join(root, 'model');
    const venvDir = path.join(root, 'venv');
    const home = path.join(root, 'home');
    const python = path.join(venvDir, 'bin', 'python');
    const schemaFile = path.join(root, 'schema.json');
    const ready = path.join(root, '.ready');
    if (fs.existsSync(ready) && (await this.madeInSandbox(modelDir))) {
      return { modelDir, python, schemaFile };
    }

    this.options.logger.info(
      `Unpacking build ${build.id} from ${build.artifactUri}`,
    );
    await fs.promises.rm(root, { recursive: true, force: true });
    for (const dir of [modelDir, venvDir, home]) {
      await fs.promises.mkdir(dir, { recursive: true, mode: 0o755 });
      await sandbox.own(dir);
    }
    const tarball = path.join(root, 'model.tar.gz');
    await this.options.artifactStore.download(
      build.artifactUri!,
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
    await fs.promises.writeFile(
      schemaFile,
      JSON.stringify(manifest.spec.schema ?? {}),
    );
    const venv = await createVirtualenv({
      config: this.options.config,
      sandbox,
      venvDir,
      modelDir,
      home,
      requirements: await requirementsToInstall(
        sandbox,
        modelDir,
        manifest.spec.requirements,
      ),
      onLine: line =>
        this.options.logger.debug(`[package ${build.id}] ${line}`),
      timeoutMs: this.options.config.builds.stepTimeoutMs,
    });
    if (venv.error || venv.timedOut) {
      throw new Error(
        `Could not install build ${build.id}: ${venv.error ?? 'timed out'}`,
      );
    }
    // Written last: a crash half-way leaves no marker and the next call redoes it.
    await fs.promises.writeFile(ready, new Date().toISOString());
    return { modelDir, python, schemaFile };
  }
}
