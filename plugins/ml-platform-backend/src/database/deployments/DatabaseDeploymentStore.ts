import { ConflictError, NotFoundError } from '@backstage/errors';
import {
  BatchSettings,
  DeploymentReplica,
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
  DeploymentRecord,
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
    replicaStatus: fromJson<DeploymentReplica[]>(row.replica_status),
    createdBy: opt(row.created_by),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

function toDeploymentRecord(row: DbDeploymentRow): DeploymentRecord {
  return {
    ...toDeployment(row),
    owner: opt(row.owner),
    ownerHeartbeatAt: iso(row.owner_heartbeat_at),
    lastRequestAt: iso(row.last_request_at),
    labels: fromJson<Record<string, string>>(row.labels),
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
          replica_status:
            update.replicaStatus && JSON.stringify(update.replicaStatus),
          labels: update.labels && JSON.stringify(update.labels),
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

  async listDeploymentRecords(options: {
    type?: DeploymentType;
  }): Promise<DeploymentRecord[]> {
    const q = this.live();
    if (options.type) q.where({ type: options.type });
    const rows = await q.orderBy('created_at', 'desc');
    return rows.map(toDeploymentRecord);
  }

  async getDeploymentRecord(id: string): Promise<DeploymentRecord | undefined> {
    const row = await this.live().where({ id }).first();
    return row ? toDeploymentRecord(row) : undefined;
  }

  async claimDeployment(
    id: string,
    owner: string,
    staleBefore: Date,
  ): Promise<boolean> {
    // One conditional UPDATE: of instances claiming at once, one matches.
    const count = await this.live()
      .where({ id })
      .where(q =>
        q
          .whereNull('owner')
          .orWhere({ owner })
          .orWhere('owner_heartbeat_at', '<', staleBefore)
          .orWhereNull('owner_heartbeat_at'),
      )
      .update({ owner, owner_heartbeat_at: new Date() });
    return count === 1;
  }

  async heartbeatDeployments(owner: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db<DbDeploymentRow>('deployments')
      .whereIn('id', ids)
      .where({ owner })
      .update({ owner_heartbeat_at: new Date() });
  }

  async releaseDeployments(owner: string, id?: string): Promise<void> {
    const q = this.db<DbDeploymentRow>('deployments').where({ owner });
    if (id) q.where({ id });
    await q.update({ owner: null, owner_heartbeat_at: null });
  }

  async noteDeploymentRequests(requests: Map<string, Date>): Promise<void> {
    for (const [id, at] of requests) {
      await this.db<DbDeploymentRow>('deployments')
        .where({ id })
        .where(q =>
          q.whereNull('last_request_at').orWhere('last_request_at', '<', at),
        )
        .update({ last_request_at: at });
    }
  }

  async claimScheduledRun(
    id: string,
    previous: string | undefined,
    at: string,
  ): Promise<boolean> {
    const q = this.live().where({ id });
    if (previous) q.where('last_scheduled_at', new Date(previous));
    else q.whereNull('last_scheduled_at');
    const count = await q.update({ last_scheduled_at: new Date(at) });
    return count === 1;
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
