import { createVirtualenv, requirementsToInstall } from '../virtualenv';
import { stepTimeout, timedOut } from './commands';
import { BuildContext, BuildStepHandler, StepFailure } from './types';

/**
 * Creates the build's virtualenv and installs the model's requirements.
 */
export const installStep: BuildStepHandler = {
  name: 'install',
  async run(s: BuildContext) {
    const { sandbox } = s.services;
    const result = await createVirtualenv({
      config: s.services.config,
      sandbox,
      venvDir: s.ws.venv,
      modelDir: s.modelDir,
      home: s.ws.home,
      python: s.manifest!.spec.python,
      requirements: await requirementsToInstall(
        sandbox,
        s.modelDir,
        s.manifest!.spec.requirements,
      ),
      onLine: line => s.log.write('install', line),
      signal: s.signal,
      timeoutMs: stepTimeout(s),
    });
    if (result.timedOut) throw timedOut(s);
    if (result.error) throw new StepFailure(result.error);
  },
};
