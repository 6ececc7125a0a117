import {
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  MlPlatformPermission,
  ModelDecision,
  isMlPlatformChangePermission,
  mlPlatformModelInvokePermission,
  mlPlatformModelReadPermission,
} from '@internal/plugin-ml-platform-common';

/** How long an allowed read or invoke is remembered per caller and model. */
const USE_TTL_MS = 10_000;
const USE_MAX = 10_000;

/**
 * Who made a request, as records, refusals and the activity show it:
 * `user:default/ada`, or `service:<subject>` for services (static tokens,
 * JWKS callers, other plugins).
 */
export function principalRef(
  credentials: BackstageCredentials,
): string | undefined {
  const p = credentials.principal as {
    type: string;
    userEntityRef?: string;
    subject?: string;
  };
  if (p.type === 'user') return p.userEntityRef;
  if (p.type === 'service') return `service:${p.subject}`;
  return undefined;
}

function isService(credentials: BackstageCredentials) {
  return (credentials.principal as { type: string }).type === 'service';
}

/**
 * Why a permission was denied, in the words of the platform's security
 * model: changes are for the model's owners (and platform admins), and
 * services only ever read and invoke.
 */
function refusal(
  who: string,
  permission: MlPlatformPermission,
  modelRef: string,
  service: boolean,
): string {
  if (isMlPlatformChangePermission(permission)) {
    return service
      ? `${who} is a service: services may read and invoke ${modelRef}, never change it`
      : `${who} is not an owner of ${modelRef}`;
  }
  const verb =
    permission.name === mlPlatformModelInvokePermission.name
      ? 'invoke'
      : 'read';
  return `${who} may not ${verb} ${modelRef} (${permission.name})`;
}

/**
 * Authorizes the platform's permissions on a model's entity through the
 * permission framework, and says why when it refuses.
 *
 * The framework decides service principals from their access restrictions
 * alone, without the policy; the platform adds its own rule on top: a
 * service never changes a model, whatever its restrictions allow.
 */
export class ModelAccess {
  /** Until when `principal|permission|model` is known to be allowed. */
  private readonly allowedUse = new Map<string, number>();

  constructor(private readonly permissions: PermissionsService) {}

  /** One decision per permission, with the reason for each refusal. */
  async decide(
    credentials: BackstageCredentials,
    permissions: MlPlatformPermission[],
    modelRef: string,
  ): Promise<ModelDecision[]> {
    const who = principalRef(credentials) ?? 'an anonymous caller';
    const service = isService(credentials);
    const asked = permissions.filter(
      p => !(service && isMlPlatformChangePermission(p)),
    );
    const results = asked.length
      ? await this.permissions.authorize(
          asked.map(permission => ({ permission, resourceRef: modelRef })),
          { credentials },
        )
      : [];
    return permissions.map(permission => {
      const i = asked.indexOf(permission);
      if (i >= 0 && results[i].result === AuthorizeResult.ALLOW) {
        return { allowed: true };
      }
      return {
        allowed: false,
        reason: refusal(who, permission, modelRef, service),
      };
    });
  }

  /**
   * Throws a NotAllowedError with the reason unless the caller holds the
   * permission on the model. Reads and invocations that were allowed are
   * remembered for a few seconds (status polls and the gateway ask on every
   * call); changes are decided every time.
   */
  async authorize(
    credentials: BackstageCredentials,
    permission: MlPlatformPermission,
    modelRef: string,
  ): Promise<void> {
    const change = isMlPlatformChangePermission(permission);
    const key = `${principalRef(credentials)}|${permission.name}|${modelRef}`;
    const now = Date.now();
    if (!change && (this.allowedUse.get(key) ?? 0) > now) return;
    const [decision] = await this.decide(credentials, [permission], modelRef);
    if (!decision.allowed) throw new NotAllowedError(decision.reason);
    if (!change) {
      if (this.allowedUse.size >= USE_MAX) this.allowedUse.clear();
      this.allowedUse.set(key, now + USE_TTL_MS);
    }
  }

  /** Those of `modelRefs` the caller may read, in one permission request. */
  async readable(
    credentials: BackstageCredentials,
    modelRefs: string[],
  ): Promise<Set<string>> {
    if (modelRefs.length === 0) return new Set();
    const results = await this.permissions.authorize(
      modelRefs.map(resourceRef => ({
        permission: mlPlatformModelReadPermission,
        resourceRef,
      })),
      { credentials },
    );
    return new Set(
      modelRefs.filter((_, i) => results[i].result === AuthorizeResult.ALLOW),
    );
  }
}
