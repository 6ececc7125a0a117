import {
  UserInfoService,
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { Config } from '@backstage/config';
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import {
  AuthorizeResult,
  PolicyDecision,
  isResourcePermission,
} from '@backstage/plugin-permission-common';
import {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import {
  ML_PLATFORM_RESOURCE_TYPE,
  isMlPlatformChangePermission,
  mlPlatformPermissions,
} from '@internal/plugin-ml-platform-common';

const ML_PLATFORM_PERMISSION_NAMES = new Set(
  mlPlatformPermissions.map(p => p.name),
);

/**
 * `permission.mlPlatform.admins`: users and groups (`user:default/alan`,
 * `group:default/ml-platform-team`) that may change every model.
 */
export function readMlPlatformAdmins(config: Config): Set<string> {
  const refs =
    config.getOptionalStringArray('permission.mlPlatform.admins') ?? [];
  return new Set(
    refs.map((ref, i) => {
      const parsed = parseEntityRef(ref, { defaultNamespace: 'default' });
      const kind = parsed.kind.toLocaleLowerCase('en-US');
      if (kind !== 'user' && kind !== 'group') {
        throw new Error(
          `permission.mlPlatform.admins[${i}]: "${ref}" is not a user or group ref (user:default/alan, group:default/ml-platform-team)`,
        );
      }
      return stringifyEntityRef(parsed).toLocaleLowerCase('en-US');
    }),
  );
}

/**
 * The portal's permission policy. For the ML platform's permissions:
 *
 * - every signed-in user may read and invoke every model;
 * - a model's owners change it: the catalog's `isEntityOwner` condition on
 *   the model's entity, against the user's ownership refs (the user and
 *   the groups they are a member of);
 * - platform admins (`permission.mlPlatform.admins`, users or groups)
 *   change every model.
 *
 * The permission framework never asks a policy about service principals:
 * their access restrictions decide (see `backend.auth.externalAccess`), and
 * the ML platform itself refuses every change from a service.
 *
 * Every other permission of the portal (catalog, scaffolder, ...) is
 * allowed, as before.
 */
export class MlPlatformPermissionPolicy implements PermissionPolicy {
  constructor(
    private readonly options: {
      admins: Set<string>;
      userInfo: UserInfoService;
    },
  ) {}

  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    const { permission } = request;
    if (!ML_PLATFORM_PERMISSION_NAMES.has(permission.name)) {
      return { result: AuthorizeResult.ALLOW };
    }
    if (!user) {
      return { result: AuthorizeResult.DENY };
    }
    if (!isMlPlatformChangePermission(permission)) {
      return { result: AuthorizeResult.ALLOW };
    }
    const { ownershipEntityRefs } = await this.options.userInfo.getUserInfo(
      user.credentials,
    );
    const isAdmin = ownershipEntityRefs.some(ref =>
      this.options.admins.has(ref.toLocaleLowerCase('en-US')),
    );
    if (isAdmin) {
      return { result: AuthorizeResult.ALLOW };
    }
    if (!isResourcePermission(permission, ML_PLATFORM_RESOURCE_TYPE)) {
      return { result: AuthorizeResult.DENY };
    }
    return createCatalogConditionalDecision(
      permission,
      catalogConditions.isEntityOwner({ claims: ownershipEntityRefs }),
    );
  }
}

/** Installs {@link MlPlatformPermissionPolicy} in the permission backend. */
export const mlPlatformPermissionPolicyModule = createBackendModule({
  pluginId: 'permission',
  moduleId: 'ml-platform-policy',
  register(reg) {
    reg.registerInit({
      deps: {
        policy: policyExtensionPoint,
        config: coreServices.rootConfig,
        userInfo: coreServices.userInfo,
      },
      async init({ policy, config, userInfo }) {
        policy.setPolicy(
          new MlPlatformPermissionPolicy({
            admins: readMlPlatformAdmins(config),
            userInfo,
          }),
        );
      },
    });
  },
});
