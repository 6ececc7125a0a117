import {
  ResourcePermission,
  createPermission,
} from '@backstage/plugin-permission-common';

/**
 * Models are catalog entities, so every ML platform permission is a resource
 * permission on `catalog-entity`: a policy decides per model, e.g. with the
 * catalog's `isEntityOwner` condition.
 *
 * @public
 */
export const ML_PLATFORM_RESOURCE_TYPE = 'catalog-entity';

/** A permission the ML platform checks, always on the model's entity. @public */
export type MlPlatformPermission = ResourcePermission<
  typeof ML_PLATFORM_RESOURCE_TYPE
>;

function modelPermission(
  name: string,
  action?: 'create' | 'read' | 'update' | 'delete',
): MlPlatformPermission {
  return createPermission({
    name,
    attributes: action ? { action } : {},
    resourceType: ML_PLATFORM_RESOURCE_TYPE,
  });
}

/** See a model's platform state: builds, deployments, executions, activity. @public */
export const mlPlatformModelReadPermission = modelPermission(
  'ml-platform.model.read',
  'read',
);

/** Call a model's online deployment (`predict`, `infer`). @public */
export const mlPlatformModelInvokePermission = modelPermission(
  'ml-platform.model.invoke',
);

/** Enable a model on the platform, or change where its code lives. @public */
export const mlPlatformModelRegisterPermission = modelPermission(
  'ml-platform.model.register',
  'update',
);

/** Start a build. @public */
export const mlPlatformBuildCreatePermission = modelPermission(
  'ml-platform.build.create',
  'create',
);

/** Cancel a queued or running build. @public */
export const mlPlatformBuildCancelPermission = modelPermission(
  'ml-platform.build.cancel',
  'update',
);

/** Deploy a build, online or batch. @public */
export const mlPlatformDeploymentCreatePermission = modelPermission(
  'ml-platform.deployment.create',
  'create',
);

/** Scale, roll out or roll back a deployment. @public */
export const mlPlatformDeploymentUpdatePermission = modelPermission(
  'ml-platform.deployment.update',
  'update',
);

/** Undeploy. @public */
export const mlPlatformDeploymentDeletePermission = modelPermission(
  'ml-platform.deployment.delete',
  'delete',
);

/** Start a batch execution (and upload its input). @public */
export const mlPlatformExecutionCreatePermission = modelPermission(
  'ml-platform.execution.create',
  'create',
);

/** Cancel a batch execution. @public */
export const mlPlatformExecutionCancelPermission = modelPermission(
  'ml-platform.execution.cancel',
  'update',
);

/** Change a model's alert rules. @public */
export const mlPlatformAlertUpdatePermission = modelPermission(
  'ml-platform.alert.update',
  'update',
);

/**
 * What every signed-in user and service may be granted: reading and
 * invoking. Everything else in {@link mlPlatformPermissions} changes a model.
 *
 * @public
 */
export const mlPlatformUsePermissions: MlPlatformPermission[] = [
  mlPlatformModelReadPermission,
  mlPlatformModelInvokePermission,
];

/** Every permission that changes a model. @public */
export const mlPlatformChangePermissions: MlPlatformPermission[] = [
  mlPlatformModelRegisterPermission,
  mlPlatformBuildCreatePermission,
  mlPlatformBuildCancelPermission,
  mlPlatformDeploymentCreatePermission,
  mlPlatformDeploymentUpdatePermission,
  mlPlatformDeploymentDeletePermission,
  mlPlatformExecutionCreatePermission,
  mlPlatformExecutionCancelPermission,
  mlPlatformAlertUpdatePermission,
];

/** Every permission the ml-platform backend checks. @public */
export const mlPlatformPermissions: MlPlatformPermission[] = [
  ...mlPlatformUsePermissions,
  ...mlPlatformChangePermissions,
];

/** Whether a permission (by name) is one of the ML platform's changes. @public */
export function isMlPlatformChangePermission(permission: {
  name: string;
}): boolean {
  return mlPlatformChangePermissions.some(p => p.name === permission.name);
}
