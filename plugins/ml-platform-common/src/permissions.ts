import { createPermission } from '@backstage/plugin-permission-common';

/** Start and cancel builds of models. @public */
export const mlPlatformBuildCreatePermission = createPermission({
  name: 'ml-platform.build.create',
  attributes: { action: 'create' },
});

/** Every permission the ml-platform backend checks. @public */
export const mlPlatformPermissions = [mlPlatformBuildCreatePermission];
