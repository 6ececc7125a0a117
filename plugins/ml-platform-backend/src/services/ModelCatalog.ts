import {
  AuthService,
  BackstageCredentials,
} from '@backstage/backend-plugin-api';
import {
  Entity,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { NotFoundError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  ML_MODEL_COMPONENT_TYPE,
  MlPlatformPermission,
  ModelActivityAction,
  ModelSummary,
  isMlModelEntity,
  mlPlatformModelReadPermission,
  mlPlatformModelRegisterPermission,
} from '@internal/plugin-ml-platform-common';
import { redactUrlCredentials } from '@internal/plugin-ml-platform-node';
import { ModelAccess, principalRef } from '../access/ModelAccess';
import { Caller, ChangeOutcome, ModelChanges } from '../activity/ModelChanges';
import { PlatformStores } from '../database';
import { readModelStates } from './modelStates';

const VISIBLE_TTL_MS = 10_000;
const VISIBLE_MAX = 10_000;

/** The entity's owner as a full ref (`group:default/data-science`). */
export function ownerRef(entity: Entity): string | undefined {
  const owner = (entity.spec as { owner?: unknown })?.owner;
  if (typeof owner !== 'string' || !owner) return undefined;
  return stringifyEntityRef(
    parseEntityRef(owner, {
      defaultKind: 'group',
      defaultNamespace: entity.metadata.namespace ?? 'default',
    }),
  );
}

function spec(entity: Entity, key: string): string | undefined {
  const value = (entity.spec as Record<string, unknown> | undefined)?.[key];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Models are catalog entities: this reads them with the caller's
 * credentials (so catalog permissions apply), checks the platform's read
 * permission on them, and joins the platform's state.
 */
export class ModelCatalog {
  /** Until when a caller (`principal|modelRef`) is known to see a model. */
  private readonly visible = new Map<string, number>();

  constructor(
    private readonly options: {
      catalog: CatalogService;
      stores: Pick<
        PlatformStores,
        'models' | 'builds' | 'deployments' | 'executions'
      >;
      auth: AuthService;
      access: ModelAccess;
      changes: ModelChanges;
    },
  ) {}

  /**
   * Users read the catalog as themselves, so its permission policy applies.
   * Services (static tokens, JWKS) are often restricted to this plugin and
   * cannot call the catalog on their own behalf: the platform reads it for
   * them.
   */
  private async catalogCredentials(
    credentials: BackstageCredentials,
  ): Promise<BackstageCredentials> {
    return this.options.auth.isPrincipal(credentials, 'service')
      ? this.options.auth.getOwnServiceCredentials()
      : credentials;
  }

  async listModels(credentials: BackstageCredentials): Promise<ModelSummary[]> {
    const { items } = await this.options.catalog.getEntities(
      {
        filter: { kind: 'Component', 'spec.type': ML_MODEL_COMPONENT_TYPE },
        order: { field: 'metadata.name', order: 'asc' },
      },
      { credentials: await this.catalogCredentials(credentials) },
    );
    const models = items.filter(isMlModelEntity);
    const readable = await this.options.access.readable(
      credentials,
      models.map(e => stringifyEntityRef(e)),
    );
    const entities = models.filter(e => readable.has(stringifyEntityRef(e)));
    const states = await readModelStates(
      this.options.stores,
      entities.map(e => stringifyEntityRef(e)),
    );
    return entities.map(e => this.summarize(e, states));
  }

  /**
   * Throws the NotFoundError of `getEntity` unless the caller can see the
   * model, or a NotAllowedError unless they hold `permission` on it (read,
   * or invoke for the gateway: a service may be allowed one and not the
   * other). A positive answer is remembered per caller and model for a few
   * seconds: status reads are polled and the gateway checks every call, and
   * a catalog round trip costs more than either.
   */
  async assertVisible(
    modelRef: string,
    credentials: BackstageCredentials,
    permission: MlPlatformPermission = mlPlatformModelReadPermission,
  ): Promise<void> {
    const key = `${principalRef(credentials)}|${permission.name}|${modelRef}`;
    const now = Date.now();
    if ((this.visible.get(key) ?? 0) > now) return;
    const { namespace, name } = parseEntityRef(modelRef);
    await this.getEntity({ namespace, name }, credentials, permission);
    if (this.visible.size >= VISIBLE_MAX) this.visible.clear();
    this.visible.set(key, now + VISIBLE_TTL_MS);
  }

  /**
   * The model's entity, or a NotFoundError naming the ref; a NotAllowedError
   * when the policy does not give the caller `permission` (read by default)
   * on it.
   */
  async getEntity(
    ref: { namespace: string; name: string },
    credentials: BackstageCredentials,
    permission: MlPlatformPermission = mlPlatformModelReadPermission,
  ): Promise<Entity> {
    const entityRef = stringifyEntityRef({ kind: 'component', ...ref });
    const entity = await this.options.catalog.getEntityByRef(entityRef, {
      credentials: await this.catalogCredentials(credentials),
    });
    if (!entity) {
      throw new NotFoundError(`No model ${entityRef} in the catalog`);
    }
    if (!isMlModelEntity(entity)) {
      throw new NotFoundError(
        `${entityRef} is not a model: its spec.type is not "${ML_MODEL_COMPONENT_TYPE}"`,
      );
    }
    await this.options.access.authorize(
      credentials,
      permission,
      stringifyEntityRef(entity),
    );
    return entity;
  }

  async getModel(
    ref: { namespace: string; name: string },
    credentials: BackstageCredentials,
  ): Promise<ModelSummary> {
    const entity = await this.getEntity(ref, credentials);
    const states = await readModelStates(this.options.stores, [
      stringifyEntityRef(entity),
    ]);
    return this.summarize(entity, states);
  }

  /**
   * A change of the model at `ref` that `caller` asked for: the model must
   * exist and be readable; then the change is authorized with `permission`
   * on its entity, applied by `change` and recorded (see ModelChanges).
   */
  async change<T>(
    ref: { namespace: string; name: string },
    caller: Caller,
    what: { action: ModelActivityAction; permission: MlPlatformPermission },
    change: (entity: Entity, modelRef: string) => Promise<ChangeOutcome<T>>,
  ): Promise<T> {
    const entity = await this.getEntity(ref, caller.credentials);
    const modelRef = stringifyEntityRef(entity);
    return this.options.changes.apply(caller, { ...what, modelRef }, () =>
      change(entity, modelRef),
    );
  }

  /**
   * Enables a model on the platform, recording where its code lives. Fields
   * not given keep their value: an empty body changes nothing.
   */
  async register(
    ref: { namespace: string; name: string },
    source: { gitUrl?: string; gitPath?: string; defaultBranch?: string },
    caller: Caller,
  ): Promise<ModelSummary> {
    return this.change(
      ref,
      caller,
      {
        action: 'model.register',
        permission: mlPlatformModelRegisterPermission,
      },
      async (_entity, modelRef) => {
        const before = await this.options.stores.models.getModel(modelRef);
        const given = Object.fromEntries(
          Object.entries(source).filter(([, value]) => value !== undefined),
        );
        await this.options.stores.models.upsertModel({
          ...before,
          ...given,
          entityRef: modelRef,
        });
        const where = source.gitUrl
          ? `${redactUrlCredentials(source.gitUrl)}${
              source.gitPath ? ` (${source.gitPath})` : ''
            }`
          : "the entity's source location";
        return {
          result: await this.getModel(ref, caller.credentials),
          message: `${before ? 'Re-registered' : 'Registered'} from ${where}`,
        };
      },
    );
  }

  private summarize(
    entity: Entity,
    states: Map<string, ModelSummary['platform']>,
  ): ModelSummary {
    const ref = stringifyEntityRef(entity);
    return {
      ref,
      namespace: entity.metadata.namespace ?? 'default',
      name: entity.metadata.name,
      title: entity.metadata.title,
      description: entity.metadata.description,
      owner: ownerRef(entity),
      system: spec(entity, 'system'),
      lifecycle: spec(entity, 'lifecycle'),
      tags: entity.metadata.tags ?? [],
      platform: states.get(ref) ?? { registered: false, runningExecutions: 0 },
    };
  }
}
