import { lastMeaningfulLine } from '../virtualenv';
import { exec } from './commands';
import {
  BuildContext,
  BuildStepHandler,
  StepFailure,
  StepSkipped,
} from './types';

/**
 * Runs the model's own tests (`spec.tests`) in its venv.
 */
export const testStep: BuildStepHandler = {
  name: 'test',
  async run(s: BuildContext) {
    const command = s.manifest!.spec.tests;
    if (!command)
      throw new StepSkipped('mlmodel.yaml declares no tests (spec.tests)');
    s.log.write('test', `$ ${command}`);
    const result = await exec(s, 'test', 'sh', ['-c', command], {
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
  },
};
