import { AuthService } from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { CustomErrorBase } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  ML_MODEL_COMPONENT_TYPE,
  ModelDeployment,
} from '@internal/plugin-ml-platform-common';
import { PlatformStores } from '../database';
import { ownerRef } from '../services/ModelCatalog';

/** `mlPlatform.quotas`: what one model, or one owner, may use at once. */
export interface QuotaLimits {
  /** Online replicas (each deployment's maxReplicas) of one model. */
  onlineReplicasPerModel: number;
  /** Online replicas of all the models of one owner. */
  onlineReplicasPerOwner: number;
  /** Executions of one model pending or running at once. */
  concurrentExecutionsPerModel: number;
  /** Builds of one model waiting in the queue. */
  queuedBuildsPerModel: number;
}

/** A request over a quota: answered 429, naming the limit. */
export class QuotaExceededError extends CustomErrorBase {
  name = 'QuotaExceededError' as const;
  statusCode = 429;
}

function exceeded(key: keyof QuotaLimits, limit: number, detail: string) {
  return new QuotaExceededError(
    `Quota mlPlatform.quotas.${key} (${limit}) exceeded: ${detail}`,
  );
}

/**
 * Checks requests against the configured quotas before anything starts. The
 * counts come from the database, so every backend instance sees the same;
 * two requests racing for the last unit may both pass.
 */
export class Quotas {
  constructor(
    private readonly options: {
      limits: QuotaLimits;
      stores: Pick<PlatformStores, 'builds' | 'deployments' | 'executions'>;
      catalog: CatalogService;
      auth: AuthService;
    },
  ) {}

  async checkQueuedBuilds(modelRef: string): Promise<void> {
    const limit = this.options.limits.queuedBuildsPerModel;
    const { totalCount } = await this.options.stores.builds.listBuilds({
      modelRef,
      status: ['queued'],
      limit: 1,
    });
    if (totalCount >= limit) {
      throw exceeded(
        'queuedBuildsPerModel',
        limit,
        `${modelRef} has ${totalCount} builds queued; wait for one to start or cancel one`,
      );
    }
  }

  async checkConcurrentExecutions(modelRef: string): Promise<void> {
    const limit = this.options.limits.concurrentExecutionsPerModel;
    const active = await this.options.stores.executions.listExecutions({
      modelRef,
      status: ['pending', 'running'],
      limit,
    });
    if (active.length >= limit) {
      throw exceeded(
        'concurrentExecutionsPerModel',
        limit,
        `${modelRef} has ${active.length} executions pending or running; wait for one to end or cancel one`,
      );
    }
  }

  /**
   * Whether the model's online deployment may have `maxReplicas` (the most
   * it may run), counting its owner's other models too. `deploymentId` is
   * the deployment being changed, whose current size is replaced.
   */
  async checkOnlineReplicas(
    modelRef: string,
    maxReplicas: number,
    deploymentId?: string,
  ): Promise<void> {
    const { limits, stores } = this.options;
    const others = (
      await stores.deployments.listDeployments({ type: 'online' })
    ).filter(d => d.id !== deploymentId);
    const replicasOf = (ds: ModelDeployment[]) =>
      ds.reduce((n, d) => n + d.maxReplicas, 0);

    const ofModel =
      maxReplicas + replicasOf(others.filter(d => d.modelRef === modelRef));
    if (ofModel > limits.onlineReplicasPerModel) {
      throw exceeded(
        'onlineReplicasPerModel',
        limits.onlineReplicasPerModel,
        `${modelRef} would have up to ${ofModel} online replicas (maxReplicas)`,
      );
    }
    const owners = await this.ownersOfModels();
    const owner = owners.get(modelRef);
    if (!owner) return;
    const ofOwner =
      ofModel +
      replicasOf(
        others.filter(
          d => d.modelRef !== modelRef && owners.get(d.modelRef) === owner,
        ),
      );
    if (ofOwner > limits.onlineReplicasPerOwner) {
      throw exceeded(
        'onlineReplicasPerOwner',
        limits.onlineReplicasPerOwner,
        `the models of ${owner} would have up to ${ofOwner} online replicas (maxReplicas)`,
      );
    }
  }

  /** The owner of every ml-model component, read as the platform. */
  private async ownersOfModels(): Promise<Map<string, string>> {
    const { items } = await this.options.catalog.getEntities(
      {
        filter: { kind: 'Component', 'spec.type': ML_MODEL_COMPONENT_TYPE },
        fields: ['kind', 'metadata.namespace', 'metadata.name', 'spec.owner'],
      },
      { credentials: await this.options.auth.getOwnServiceCredentials() },
    );
    const owners = new Map<string, string>();
    for (const entity of items) {
      const owner = ownerRef(entity);
      if (owner) owners.set(stringifyEntityRef(entity), owner);
    }
    return owners;
  }
}
