import { Knex } from 'knex';
import { insertRows } from '../insertRows';
import { DbSubscriptionRow, DbSubscriptionDeliveryRow } from '../tables';
import {
  Counter,
  DeliveryRecord,
  DeliveryStatus,
  NewDelivery,
  NewSubscription,
  SubscriptionRecord,
  SubscriptionStore,
  SubscriptionUpdate,
} from './SubscriptionStore';

const iso = (value: Date | string) => new Date(value).toISOString();
/** Deliveries per UPDATE: far below the bound-variable limits. */
const FINISH_CHUNK = 500;
/** Deliveries per multi-row INSERT (13 columns): as far below them. */
const INSERT_CHUNK = 200;
const DELIVERY_COLUMNS: ReadonlyArray<keyof DbSubscriptionDeliveryRow> = [
  'id',
  'subscription_id',
  'event_key',
  'topic',
  'payload',
  'status',
  'attempts',
  'next_attempt_at',
  'received_at',
  'claimed_by',
  'claimed_until',
  'reason',
  'finished_at',
];

function fromSubscriptionRow(r: DbSubscriptionRow): SubscriptionRecord {
  const record: SubscriptionRecord = {
    id: r.id,
    modelRef: r.model_ref,
    deploymentId: r.deployment_id,
    topic: r.topic,
    mapping: JSON.parse(r.mapping),
    outputTopic: r.output_topic,
    enabled: Boolean(r.enabled),
    received: Number(r.received),
    filtered: Number(r.filtered),
    predicted: Number(r.predicted),
    failed: Number(r.failed),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
  if (r.filter !== null) record.filter = JSON.parse(r.filter);
  if (r.idempotency_key !== null) record.idempotencyKey = r.idempotency_key;
  return record;
}

function fromDeliveryRow(r: DbSubscriptionDeliveryRow): DeliveryRecord {
  const record: DeliveryRecord = {
    id: r.id,
    subscriptionId: r.subscription_id,
    eventKey: r.event_key,
    topic: r.topic,
    payload: JSON.parse(r.payload),
    status: r.status as DeliveryStatus,
    attempts: r.attempts,
    nextAttemptAt: Number(r.next_attempt_at),
    receivedAt: Number(r.received_at),
  };
  if (r.reason !== null) record.reason = r.reason;
  if (r.finished_at !== null) record.finishedAt = Number(r.finished_at);
  return record;
}

/** Subscriptions in the plugin's database. */
export class DatabaseSubscriptionStore implements SubscriptionStore {
  constructor(private readonly db: Knex) {}

  async createSubscription(s: NewSubscription): Promise<void> {
    await this.db<DbSubscriptionRow>('subscriptions').insert({
      id: s.id,
      model_ref: s.modelRef,
      deployment_id: s.deploymentId,
      topic: s.topic,
      filter: s.filter === undefined ? null : JSON.stringify(s.filter),
      mapping: JSON.stringify(s.mapping),
      output_topic: s.outputTopic,
      idempotency_key: s.idempotencyKey ?? null,
      enabled: s.enabled,
      created_at: new Date(s.createdAt),
      updated_at: new Date(s.createdAt),
    });
  }

  async getSubscription(id: string) {
    const row = await this.db<DbSubscriptionRow>('subscriptions')
      .where({ id })
      .first();
    return row && fromSubscriptionRow(row);
  }

  async listSubscriptions(
    filter: { modelRef?: string; enabled?: boolean } = {},
  ) {
    const query = this.db<DbSubscriptionRow>('subscriptions').orderBy([
      'created_at',
      'id',
    ]);
    if (filter.modelRef) query.where('model_ref', filter.modelRef);
    if (filter.enabled !== undefined) query.where('enabled', filter.enabled);
    return (await query).map(fromSubscriptionRow);
  }

  async updateSubscription(id: string, u: SubscriptionUpdate) {
    const row: Partial<DbSubscriptionRow> = { updated_at: new Date() };
    if (u.deploymentId !== undefined) row.deployment_id = u.deploymentId;
    if (u.topic !== undefined) row.topic = u.topic;
    if ('filter' in u) {
      row.filter = u.filter === undefined ? null : JSON.stringify(u.filter);
    }
    if (u.mapping !== undefined) row.mapping = JSON.stringify(u.mapping);
    if (u.outputTopic !== undefined) row.output_topic = u.outputTopic;
    if ('idempotencyKey' in u) row.idempotency_key = u.idempotencyKey ?? null;
    if (u.enabled !== undefined) row.enabled = u.enabled;
    await this.db<DbSubscriptionRow>('subscriptions').where({ id }).update(row);
  }

  async deleteSubscription(id: string) {
    await this.db.transaction(async tx => {
      await tx('subscription_deliveries').where('subscription_id', id).delete();
      await tx('subscriptions').where({ id }).delete();
    });
  }

  async count(id: string, counters: Partial<Record<Counter, number>>) {
    const increments = Object.fromEntries(
      Object.entries(counters).filter(([, n]) => n),
    );
    if (Object.keys(increments).length === 0) return;
    await this.db('subscriptions').where({ id }).increment(increments);
  }

  async insertDeliveries(
    received: ReadonlyArray<NewDelivery>,
  ): Promise<boolean[]> {
    const rows: DbSubscriptionDeliveryRow[] = received.map(
      ({ delivery: d, claim }) => ({
        id: d.id,
        subscription_id: d.subscriptionId,
        event_key: d.eventKey,
        topic: d.topic,
        payload: JSON.stringify(d.payload),
        status: 'pending',
        attempts: 0,
        next_attempt_at: d.nextAttemptAt,
        received_at: d.receivedAt,
        claimed_by: claim?.owner ?? null,
        claimed_until: claim?.until ?? null,
        reason: null,
        finished_at: null,
      }),
    );
    return insertRows(this.db, 'subscription_deliveries', rows, {
      columns: DELIVERY_COLUMNS,
      chunk: INSERT_CHUNK,
      ignoreConflicts: { columns: ['subscription_id', 'event_key'], key: 'id' },
    });
  }

  async claimDeliveries(options: {
    owner: string;
    now: number;
    leaseMs: number;
    limit: number;
    ids?: string[];
  }): Promise<DeliveryRecord[]> {
    const { owner, now, leaseMs, limit, ids } = options;
    const claimable = (q: Knex.QueryBuilder) =>
      q
        .where('status', 'pending')
        .where('next_attempt_at', '<=', now)
        .where(w =>
          w.whereNull('claimed_until').orWhere('claimed_until', '<', now),
        );
    const candidates = this.db('subscription_deliveries')
      .modify(claimable)
      .orderBy('next_attempt_at')
      .limit(limit)
      .pluck('id');
    if (ids) candidates.whereIn('id', ids);
    const chosen: string[] = await candidates;
    if (chosen.length === 0) return [];
    const until = now + leaseMs;
    // One conditional update: of two instances, one wins each row (the
    // loser's update finds it claimed, no longer claimable, and skips it).
    const won = await this.db('subscription_deliveries')
      .whereIn('id', chosen)
      .modify(claimable)
      .update({ claimed_by: owner, claimed_until: until });
    if (won === 0) return [];
    const rows = await this.db<DbSubscriptionDeliveryRow>(
      'subscription_deliveries',
    )
      .whereIn('id', chosen)
      .where({ claimed_by: owner, claimed_until: until, status: 'pending' })
      .orderBy('next_attempt_at');
    return rows.map(fromDeliveryRow);
  }

  async finishDelivery(
    id: string,
    outcome: { status: Exclude<DeliveryStatus, 'pending'>; reason?: string },
    attempts: number,
    now: number,
  ) {
    await this.db('subscription_deliveries')
      .where({ id })
      .update({
        status: outcome.status,
        reason: outcome.reason ?? null,
        attempts,
        finished_at: now,
        claimed_by: null,
        claimed_until: null,
      });
  }

  async finishPredicted(
    finished: ReadonlyArray<{ id: string; attempts: number }>,
    now: number,
  ) {
    const byAttempts = new Map<number, string[]>();
    for (const { id, attempts } of finished) {
      const ids = byAttempts.get(attempts);
      if (ids) ids.push(id);
      else byAttempts.set(attempts, [id]);
    }
    await this.db.transaction(async tx => {
      for (const [attempts, ids] of byAttempts) {
        for (let i = 0; i < ids.length; i += FINISH_CHUNK) {
          await tx('subscription_deliveries')
            .whereIn('id', ids.slice(i, i + FINISH_CHUNK))
            .update({
              status: 'predicted',
              reason: null,
              attempts,
              finished_at: now,
              claimed_by: null,
              claimed_until: null,
            });
        }
      }
    });
  }

  async retryDelivery(
    id: string,
    attempts: number,
    nextAttemptAt: number,
    reason: string,
  ) {
    await this.db('subscription_deliveries').where({ id }).update({
      status: 'pending',
      attempts,
      next_attempt_at: nextAttemptAt,
      reason,
      finished_at: null,
      claimed_by: null,
      claimed_until: null,
    });
  }

  async releaseClaims(owner: string) {
    return await this.db('subscription_deliveries')
      .where({ claimed_by: owner, status: 'pending' })
      .update({ claimed_by: null, claimed_until: null });
  }

  async getDelivery(id: string) {
    const row = await this.db<DbSubscriptionDeliveryRow>(
      'subscription_deliveries',
    )
      .where({ id })
      .first();
    return row && fromDeliveryRow(row);
  }

  async listDeadLetters(subscriptionIds: string[], limit: number) {
    if (subscriptionIds.length === 0) return [];
    const rows = await this.db<DbSubscriptionDeliveryRow>(
      'subscription_deliveries',
    )
      .whereIn('subscription_id', subscriptionIds)
      .where('status', 'dead')
      .orderBy([
        { column: 'finished_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(limit);
    return rows.map(fromDeliveryRow);
  }

  async oldestPending(subscriptionIds: string[]) {
    const oldest = new Map<string, number>();
    if (subscriptionIds.length === 0) return oldest;
    const rows: { subscription_id: string; oldest: number | string }[] =
      await this.db('subscription_deliveries')
        .whereIn('subscription_id', subscriptionIds)
        .where('status', 'pending')
        .groupBy('subscription_id')
        .select('subscription_id')
        .min({ oldest: 'received_at' });
    for (const row of rows) {
      oldest.set(row.subscription_id, Number(row.oldest));
    }
    return oldest;
  }

  async deleteFinishedBefore(time: number) {
    return this.db('subscription_deliveries')
      .whereIn('status', ['predicted', 'filtered'])
      .where('finished_at', '<', time)
      .delete();
  }
}
