import fs from 'node:fs';
import path from 'node:path';
import {
  DEFAULT_MANIFEST_PATH,
  ManifestError,
  parseManifest,
} from '@internal/plugin-ml-platform-common';
import { runtimeSchemaJson } from '@internal/ml-platform-model-runtime';
import { BuildContext, BuildStepHandler, StepFailure } from './types';

/**
 * Reads and validates mlmodel.yaml and the files it names; stores the
 * manifest with the build.
 */
export const validateStep: BuildStepHandler = {
  name: 'validate',
  async run(s: BuildContext) {
    const manifestPath = s.model.manifestPath ?? DEFAULT_MANIFEST_PATH;
    const file = path.join(s.modelDir, manifestPath);
    let text: string;
    try {
      text = await s.services.sandbox.readFile(file, 1024 * 1024);
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
    await fs.promises.writeFile(s.ws.schemaFile, runtimeSchemaJson(spec));
    await s.services.builds.updateBuild(s.build.id, {
      manifest: s.manifest,
    });
    s.log.write(
      'validate',
      `${manifestPath} is valid: entrypoint ${spec.entrypoint}`,
    );
  },
};
