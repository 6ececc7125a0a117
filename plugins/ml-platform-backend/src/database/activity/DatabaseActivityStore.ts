import {
  ModelActivity,
  ModelActivityAction,
  ModelActivityOutcome,
} from '@internal/plugin-ml-platform-common';
import { Knex } from 'knex';
import { iso, num, opt } from '../conversions';
import { DbActivityRow } from '../tables';
import { ActivityStore, NewActivity } from './ActivityStore';

function toActivity(row: DbActivityRow): ModelActivity {
  return {
    id: String(row.id),
    modelRef: row.model_ref,
    action: row.action as ModelActivityAction,
    actor: row.actor,
    outcome: row.outcome as ModelActivityOutcome,
    message: row.message,
    subjectId: opt(row.subject_id),
    requestId: opt(row.request_id),
    createdAt: iso(row.created_at),
  };
}

/** The `activity` table. */
export class DatabaseActivityStore implements ActivityStore {
  constructor(private readonly db: Knex) {}

  async add(entry: NewActivity): Promise<ModelActivity> {
    const [row] = await this.db<DbActivityRow>('activity')
      .insert({
        model_ref: entry.modelRef,
        action: entry.action,
        actor: entry.actor,
        outcome: entry.outcome,
        message: entry.message,
        subject_id: entry.subjectId ?? null,
        request_id: entry.requestId ?? null,
        created_at: new Date(),
      })
      .returning('*');
    return toActivity(row);
  }

  async list(options: {
    modelRef: string;
    limit: number;
    offset: number;
  }): Promise<{ items: ModelActivity[]; totalCount: number }> {
    const base = this.db<DbActivityRow>('activity').where({
      model_ref: options.modelRef,
    });
    const [{ n }] = await base
      .clone()
      .count<{ n: number | string }[]>({ n: '*' });
    const rows = await base
      .clone()
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(options.limit)
      .offset(options.offset);
    return { items: rows.map(toActivity), totalCount: num(n) };
  }
}
