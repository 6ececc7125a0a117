/**
 * Test helpers for modules of the ml-platform backend: real Git
 * repositories of the example models, the churn model's reference
 * predictions, and API helpers for a test backend.
 *
 * @packageDocumentation
 */

// Only tests import this entry point; it shares the plugin's own test helpers.
/* eslint-disable no-restricted-imports */
export {
  churnExpected,
  churnReference,
  churnRow,
  churnV2Body,
  mlModelComponent,
  writeChurnCsv,
} from '../__testUtils__/churnReference';
export { ModelRepository, waitFor } from '../__testUtils__/modelRepository';
export { api, buildModel, waitForBuild } from '../__testUtils__/platformApi';
export {
  FLAKY_CHURN_MODEL,
  waitForExecution,
  writeModelVariant,
} from '../__testUtils__/modelVariants';
