import { createPermission } from '@backstage/plugin-permission-common';

/** Start and cancel builds of models. @public */
export const mlPlatformBuildCreatePermission = createPermission({
  name: 'ml-platform.build.create',
  attributes: { action: 'create' },
});

/** Create, scale, roll out, roll back and delete deployments. @public */
export const mlPlatformDeploymentManagePermission = createPermission({
  name: 'ml-platform.deployment.manage',
  attributes: { action: 'update' },
});

/** Start and cancel batch executions. @public */
export const mlPlatformExecutionCreatePermission = createPermission({
  name: 'ml-platform.execution.create',
  attributes: { action: 'create' },
});

/** Every permission the ml-platform backend checks. @public */
export const mlPlatformPermissions = [
  mlPlatformBuildCreatePermission,
  mlPlatformDeploymentManagePermission,
  mlPlatformExecutionCreatePermission,
];
