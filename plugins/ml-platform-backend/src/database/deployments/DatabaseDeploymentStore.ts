import { ConflictError, NotFoundError } from '@backstage/errors';
import {
  BatchSettings,
  DeploymentStatus,
  DeploymentType,
  ModelDeployment,
} from '@internal/plugin-ml-platform-common';
import { randomUUID } from 'node:crypto';
import { Knex } from 'knex';
import {
  defined,
  fromJson,
  inSlices,
  isUniqueViolation,
  iso,
  num,
  opt,
  toDate,
} from '../conversions';
import { DbDeploymentRow } from '../tables';
import {
  DeploymentStore,
  DeploymentUpdate,
  NewDeployment,
} from './DeploymentStore';

const LIVE_STATUSES: DeploymentStatus[] = [
  'pending',
  'deploying',
  'ready',
  'degraded',
];

function toDeployment(row: DbDeploymentRow): ModelDeployment {
  return {
    id: row.id,
    modelRef: row.model_ref,
    buildId: row.build_id,
    type: row.type as DeploymentType,
    status: row.status as DeploymentStatus,
    reason: opt(row.reason),
    replicas: num(row.replicas),
    minReplicas: num(row.min_replicas),
    maxReplicas: num(row.max_replicas),
    readyReplicas: num(row.ready_replicas),
    batch: fromJson<BatchSettings>(row.batch),
    scaledToZeroAt: iso(row.scaled_to_zero_at),
    lastScheduledAt: iso(row.last_scheduled_at),
    createdBy: opt(row.created_by),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

/** The `deployments` table. */
export class DatabaseDeploymentStore implements DeploymentStore {
  constructor(private readonly db: Knex) {}

  /** Deployments not deleted. */
  private live() {
    return this.db<DbDeploymentRow>('deployments').whereNull('deleted_at');
  }

  async createDeployment(d: NewDeployment): Promise<ModelDeployment> {
    const id = randomUUID();
    const now = new Date();
    try {
      await this.db<DbDeploymentRow>('deployments').insert({
        id,
        model_ref: d.modelRef,
        build_id: d.buildId,
        type: d.type,
        status: 'pending',
        replicas: d.replicas,
        min_replicas: d.minReplicas,
        max_replicas: d.maxReplicas,
        ready_replicas: 0,
        batch: d.batch ? JSON.stringify(d.batch) : null,
        created_by: d.createdBy ?? null,
        created_at: now,
        updated_at: now,
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ConflictError(
          `${d.modelRef} already has an ${d.type} deployment`,
        );
      }
      throw error;
    }
    return (await this.getDeployment(id))!;
  }

  async updateDeployment(
    id: string,
    update: DeploymentUpdate,
  ): Promise<ModelDeployment> {
    const { scaledToZeroAt } = update;
    const count = await this.live()
      .where({ id })
      .update(
        defined({
          build_id: update.buildId,
          status: update.status,
          reason: update.reason,
          replicas: update.replicas,
          min_replicas: update.minReplicas,
          max_replicas: update.maxReplicas,
          ready_replicas: update.readyReplicas,
          batch: update.batch && JSON.stringify(update.batch),
          scaled_to_zero_at:
            scaledToZeroAt === undefined
              ? undefined
              : (scaledToZeroAt && new Date(scaledToZeroAt)) || null,
          last_scheduled_at: toDate(update.lastScheduledAt),
          updated_at: new Date(),
        }),
      );
    if (!count) throw new NotFoundError(`No deployment with id ${id}`);
    return (await this.getDeployment(id))!;
  }

  async deleteDeployment(id: string): Promise<void> {
    const count = await this.live()
      .where({ id })
      .update({ deleted_at: new Date(), status: 'stopped', ready_replicas: 0 });
    if (!count) throw new NotFoundError(`No deployment with id ${id}`);
  }

  async getDeployment(id: string): Promise<ModelDeployment | undefined> {
    const row = await this.live().where({ id }).first();
    return row ? toDeployment(row) : undefined;
  }

  async listDeployments(options: {
    modelRef?: string;
    type?: DeploymentType;
    status?: DeploymentStatus[];
  }): Promise<ModelDeployment[]> {
    const q = this.live();
    if (options.modelRef) q.where({ model_ref: options.modelRef });
    if (options.type) q.where({ type: options.type });
    if (options.status) q.whereIn('status', options.status);
    const rows = await q.orderBy('created_at', 'desc');
    return rows.map(toDeployment);
  }

  async getLiveOnlineDeployments(
    refs: string[],
  ): Promise<Map<string, ModelDeployment>> {
    const rows = await inSlices(refs, slice =>
      this.live()
        .whereIn('model_ref', slice)
        .where({ type: 'online' })
        .whereIn('status', LIVE_STATUSES)
        .orderBy('created_at', 'desc'),
    );
    const live = new Map<string, ModelDeployment>();
    for (const row of rows) {
      if (!live.has(row.model_ref)) live.set(row.model_ref, toDeployment(row));
    }
    return live;
  }
}
