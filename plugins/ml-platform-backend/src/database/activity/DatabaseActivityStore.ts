import { ModelActivity } from '@internal/plugin-ml-platform-common';
import { Knex } from 'knex';
import { iso, opt } from '../DatabaseMlPlatformStore';
import { ActivityStore, NewActivity } from './ActivityStore';

function toActivity(row: any): ModelActivity {
  return {
    id: String(row.id),
    modelRef: row.model_ref,
    action: row.action,
    actor: row.actor,
    outcome: row.outcome,
    message: row.message,
    subjectId: opt(row.subject_id),
    requestId: opt(row.request_id),
    createdAt: iso(row.created_at)!,
  };
}

/**
 * The activity table. Its migration runs with the plugin's others (in
 * `DatabaseMlPlatformStore.create`), so this takes a migrated client.
 */
export class DatabaseActivityStore implements ActivityStore {
  constructor(private readonly db: Knex) {}

  async add(entry: NewActivity): Promise<ModelActivity> {
    const [row] = await this.db('activity')
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
    const base = this.db('activity').where({ model_ref: options.modelRef });
    const [{ n }] = await base.clone().count({ n: '*' });
    const rows = await base
      .clone()
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(options.limit)
      .offset(options.offset);
    return { items: rows.map(toActivity), totalCount: Number(n) };
  }
}
