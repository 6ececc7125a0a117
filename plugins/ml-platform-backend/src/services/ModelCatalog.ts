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
  ModelSummary,
  isMlModelEntity,
} from '@internal/plugin-ml-platform-common';
import { MlPlatformStore } from '../database/MlPlatformStore';

const VISIBLE_TTL_MS = 10_000;
const VISIBLE_MAX = 10_000;

function ownerRef(entity: Entity): string | undefined {
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
 * credentials (so catalog permissions apply) and joins the platform's state.
 */
export class ModelCatalog {
  /** Until when a caller (`principal|modelRef`) is known to see a model. */
  private readonly visible = new Map<string, number>();

  constructor(
    private readonly catalog: CatalogService,
    private readonly store: MlPlatformStore,
    private readonly auth: AuthService,
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
    return this.auth.isPrincipal(credentials, 'service')
      ? this.auth.getOwnServiceCredentials()
      : credentials;
  }

  async listModels(credentials: BackstageCredentials): Promise<ModelSummary[]> {
    const { items } = await this.catalog.getEntities(
      {
        filter: { kind: 'Component', 'spec.type': ML_MODEL_COMPONENT_TYPE },
        order: { field: 'metadata.name', order: 'asc' },
      },
      { credentials: await this.catalogCredentials(credentials) },
    );
    const entities = items.filter(isMlModelEntity);
    const states = await this.store.getModelStates(
      entities.map(e => stringifyEntityRef(e)),
    );
    return entities.map(e => this.summarize(e, states));
  }

  /**
   * Throws the NotFoundError of `getEntity` unless the caller can see the
   * model. A positive answer is remembered per caller and model for a few
   * seconds: status reads are polled and the gateway checks every call, and
   * a catalog round trip costs more than either.
   */
  async assertVisible(
    modelRef: string,
    credentials: BackstageCredentials,
  ): Promise<void> {
    const principal = credentials.principal as {
      type: string;
      userEntityRef?: string;
      subject?: string;
    };
    const key = `${
      principal.userEntityRef ?? principal.subject ?? principal.type
    }|${modelRef}`;
    const now = Date.now();
    if ((this.visible.get(key) ?? 0) > now) return;
    const { namespace, name } = parseEntityRef(modelRef);
    await this.getEntity({ namespace, name }, credentials);
    if (this.visible.size >= VISIBLE_MAX) this.visible.clear();
    this.visible.set(key, now + VISIBLE_TTL_MS);
  }

  /** The model's entity, or a NotFoundError naming the ref. */
  async getEntity(
    ref: { namespace: string; name: string },
    credentials: BackstageCredentials,
  ): Promise<Entity> {
    const entityRef = stringifyEntityRef({ kind: 'component', ...ref });
    const entity = await this.catalog.getEntityByRef(entityRef, {
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
    return entity;
  }

  async getModel(
    ref: { namespace: string; name: string },
    credentials: BackstageCredentials,
  ): Promise<ModelSummary> {
    const entity = await this.getEntity(ref, credentials);
    const states = await this.store.getModelStates([
      stringifyEntityRef(entity),
    ]);
    return this.summarize(entity, states);
  }

  /**
   * Enables a model on the platform, recording where its code lives. Fields
   * not given keep their value: an empty body changes nothing.
   */
  async register(
    ref: { namespace: string; name: string },
    source: { gitUrl?: string; gitPath?: string; defaultBranch?: string },
    credentials: BackstageCredentials,
  ): Promise<ModelSummary> {
    const entity = await this.getEntity(ref, credentials);
    const entityRef = stringifyEntityRef(entity);
    const existing = await this.store.getModel(entityRef);
    const given = Object.fromEntries(
      Object.entries(source).filter(([, value]) => value !== undefined),
    );
    await this.store.upsertModel({ ...existing, ...given, entityRef });
    return this.getModel(ref, credentials);
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
