import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { mlPlatformServiceRef } from '@internal/plugin-ml-platform-node';
import { createDeployAction } from './actions/deployModel';
import { createPublishGitAction } from './actions/publishGit';
import { createRegisterModelAction } from './actions/registerModel';
import { createWaitForBuildAction } from './actions/waitForBuild';

/**
 * The ML platform's scaffolder actions.
 *
 * @public
 */
export const scaffolderModule = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'ml-platform',
  register({ registerInit }) {
    registerInit({
      deps: {
        config: coreServices.rootConfig,
        scaffolderActions: scaffolderActionsExtensionPoint,
        mlPlatform: mlPlatformServiceRef,
      },
      async init({ config, scaffolderActions, mlPlatform }) {
        scaffolderActions.addActions(
          createPublishGitAction({ config }),
          createRegisterModelAction({ mlPlatform }),
          createWaitForBuildAction({ mlPlatform }),
          createDeployAction({ mlPlatform }),
        );
      },
    });
  },
});
