import fs from 'node:fs';
import path from 'node:path';
import { lastMeaningfulLine } from '../virtualenv';
import { exec } from './commands';
import { BuildContext, BuildStepHandler, StepFailure } from './types';

/**
 * Packs the model directory into a tarball in the artifact store (with its
 * digest) and links the model for deployments on this host.
 */
export const packageStep: BuildStepHandler = {
  name: 'package',
  async run(s: BuildContext) {
    // tar reads the model as the sandbox user and writes to a pipe: the
    // backend writes the tarball, never into the sandbox user's files.
    const tarball = path.join(s.ws.root, 'model.tar.gz');
    const tar = await exec(
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
    const stored = await s.services.artifactStore.put(
      `builds/${name}/v${s.build.version}-${s.build.id}.tar.gz`,
      tarball,
    );
    await fs.promises.rm(tarball, { force: true });
    await s.services.builds.updateBuild(s.build.id, {
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
  },
};
