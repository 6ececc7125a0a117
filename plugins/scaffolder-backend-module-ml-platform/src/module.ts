import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { mlPlatformServiceRef } from '@internal/plugin-ml-platform-node';
import { createAuthorizeModelAction } from './actions/authorizeModel';
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
        permissions: coreServices.permissions,
        scaffolderActions: scaffolderActionsExtensionPoint,
        mlPlatform: mlPlatformServiceRef,
      },
      async init({ config, permissions, scaffolderActions, mlPlatform }) {
        scaffolderActions.addActions(
          createAuthorizeModelAction({ permissions }),
          createPublishGitAction({ config }),
          createRegisterModelAction({ mlPlatform }),
          createWaitForBuildAction({ mlPlatform }),
          createDeployAction({ mlPlatform }),
        );
      },
    });
  },
});
