import fs from 'node:fs';
import path from 'node:path';
import { lastMeaningfulLine } from '../virtualenv';
import { exec, venvEnv } from './commands';
import {
  BuildContext,
  BuildStepHandler,
  StepFailure,
  StepSkipped,
} from './types';

/**
 * Predicts the manifest's sample (`spec.sample`) with the batch worker: the
 * build's package can load the model and answer.
 */
export const smokeStep: BuildStepHandler = {
  name: 'smoke',
  async run(s: BuildContext) {
    const sample = s.manifest!.spec.sample;
    if (!sample)
      throw new StepSkipped('mlmodel.yaml declares no sample (spec.sample)');
    const { sandbox } = s.services;
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
    const result = await exec(
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
        env: { ...venvEnv(s), PYTHONPATH: sandbox.runtimePythonPath },
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
  },
};
