import { PredictionEvent } from '@internal/plugin-ml-platform-common';
import { Knex } from 'knex';
import { DbPredictionEventRow } from '../tables';
import {
  PredictionEventQuery,
  PredictionEventStore,
} from './PredictionEventStore';

const TABLE = 'prediction_events';
/** Rows per INSERT: 21 columns stay far below SQLite's bound-variable limit. */
const INSERT_CHUNK = 200;
/** Rows per DELETE, so retention never holds a long lock. */
const DELETE_CHUNK = 5000;

function toRow(e: PredictionEvent): DbPredictionEventRow {
  return {
    id: e.id,
    time: Date.parse(e.time),
    model_ref: e.modelRef,
    version: e.version,
    build_id: e.buildId,
    deployment_id: e.deploymentId ?? null,
    execution_id: e.executionId ?? null,
    caller: e.caller ?? null,
    caller_kind: e.callerKind,
    trigger: e.trigger,
    route: e.route,
    latency_ms: e.latencyMs,
    status: e.status,
    rows: e.rows ?? null,
    error: e.error ?? null,
    request: e.request === undefined ? null : JSON.stringify(e.request),
    response: e.response === undefined ? null : JSON.stringify(e.response),
    sampled: e.sampled,
    truncated: e.truncated ?? false,
    source_event_id: e.sourceEventId ?? null,
    subscription_id: e.subscriptionId ?? null,
  };
}

function fromRow(r: DbPredictionEventRow): PredictionEvent {
  const event: PredictionEvent = {
    id: r.id,
    time: new Date(Number(r.time)).toISOString(),
    modelRef: r.model_ref,
    version: r.version,
    buildId: r.build_id,
    callerKind: r.caller_kind as PredictionEvent['callerKind'],
    trigger: r.trigger as PredictionEvent['trigger'],
    route: r.route,
    latencyMs: Number(r.latency_ms),
    status: r.status,
    sampled: Boolean(r.sampled),
  };
  if (r.deployment_id) event.deploymentId = r.deployment_id;
  if (r.execution_id) event.executionId = r.execution_id;
  if (r.caller) event.caller = r.caller;
  if (r.rows !== null) event.rows = r.rows;
  if (r.error) event.error = r.error;
  if (r.request !== null) event.request = JSON.parse(r.request);
  if (r.response !== null) event.response = JSON.parse(r.response);
  if (r.truncated) event.truncated = true;
  if (r.source_event_id) event.sourceEventId = r.source_event_id;
  if (r.subscription_id) event.subscriptionId = r.subscription_id;
  return event;
}

/** Status filters: an exact code, a class (`4xx`) or `error` (>= 400). */
function statusRange(status: string): [number, number] {
  if (status === 'error') return [400, 1000];
  const cls = /^([1-5])xx$/.exec(status);
  if (cls) return [Number(cls[1]) * 100, Number(cls[1]) * 100 + 100];
  const code = Number(status);
  return [code, code + 1];
}

/** Prediction events in the plugin's database (`prediction_events`). */
export class DatabasePredictionEventStore implements PredictionEventStore {
  constructor(private readonly db: Knex) {}

  async insertEvents(events: PredictionEvent[]): Promise<void> {
    if (events.length === 0) return;
    const rows = events.map(toRow);
    await this.db.transaction(async tx => {
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        // A request id seen twice (a retried flush) keeps its first row.
        await tx(TABLE)
          .insert(rows.slice(i, i + INSERT_CHUNK))
          .onConflict('id')
          .ignore();
      }
    });
  }

  async listEvents(q: PredictionEventQuery): Promise<PredictionEvent[]> {
    const query = this.db<DbPredictionEventRow>(TABLE)
      .where('model_ref', q.modelRef)
      .orderBy([
        { column: 'time', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(q.limit);
    if (q.from !== undefined) query.where('time', '>=', q.from);
    if (q.to !== undefined) query.where('time', '<', q.to);
    if (q.status !== undefined) {
      const [low, high] = statusRange(q.status);
      query.where('status', '>=', low).where('status', '<', high);
    }
    if (q.version !== undefined) query.where('version', q.version);
    if (q.caller !== undefined) query.where('caller', q.caller);
    if (q.trigger !== undefined) query.where('trigger', q.trigger);
    if (q.before) {
      const { time, id } = q.before;
      query.where(w =>
        w
          .where('time', '<', time)
          .orWhere(same => same.where('time', time).where('id', '<', id)),
      );
    }
    return (await query).map(fromRow);
  }

  async deleteBefore(time: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const ids = await this.db(TABLE)
        .where('time', '<', time)
        .limit(DELETE_CHUNK)
        .pluck('id');
      if (ids.length === 0) return deleted;
      deleted += await this.db(TABLE).whereIn('id', ids).delete();
    }
  }
}
