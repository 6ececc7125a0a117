import { checkoutStep } from './checkout';
import { installStep } from './install';
import { packageStep } from './package';
import { smokeStep } from './smoke';
import { testStep } from './test';
import { BuildStepHandler, BuildStepName } from './types';
import { validateStep } from './validate';

/** Every step's handler, by name (the order is BUILD_STEPS'). */
export const buildSteps: Record<BuildStepName, BuildStepHandler> = {
  checkout: checkoutStep,
  validate: validateStep,
  install: installStep,
  test: testStep,
  smoke: smokeStep,
  package: packageStep,
};

export { BUILD_STEPS, StepFailure, StepSkipped } from './types';
export type {
  BuildContext,
  BuildStepHandler,
  BuildStepName,
  BuildStepServices,
} from './types';
