/**
 * The ml-platform module for @backstage/plugin-scaffolder-backend.
 *
 * @packageDocumentation
 */

export { scaffolderModule as default } from './module';
export { createAuthorizeModelAction } from './actions/authorizeModel';
export { createDeployAction } from './actions/deployModel';
export { createPublishGitAction } from './actions/publishGit';
export { createRegisterModelAction } from './actions/registerModel';
export { createWaitForBuildAction } from './actions/waitForBuild';
