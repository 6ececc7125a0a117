import { Knex } from 'knex';
import { inSlices, iso, opt } from '../conversions';
import { DbModelRow } from '../tables';
import { ModelRecord, ModelStore } from './ModelStore';

function toModel(row: DbModelRow): ModelRecord {
  return {
    entityRef: row.entity_ref,
    gitUrl: opt(row.git_url),
    gitPath: opt(row.git_path),
    defaultBranch: opt(row.default_branch),
    manifestPath: opt(row.manifest_path),
    registeredAt: iso(row.registered_at),
  };
}

/** The `models` table. */
export class DatabaseModelStore implements ModelStore {
  constructor(private readonly db: Knex) {}

  async upsertModel(
    model: Omit<ModelRecord, 'registeredAt'>,
  ): Promise<ModelRecord> {
    const now = new Date();
    await this.db<DbModelRow>('models')
      .insert({
        entity_ref: model.entityRef,
        git_url: model.gitUrl ?? null,
        git_path: model.gitPath ?? null,
        default_branch: model.defaultBranch ?? null,
        manifest_path: model.manifestPath ?? null,
        last_build_version: 0,
        registered_at: now,
        updated_at: now,
      })
      .onConflict('entity_ref')
      .merge([
        'git_url',
        'git_path',
        'default_branch',
        'manifest_path',
        'updated_at',
      ]);
    return (await this.getModel(model.entityRef))!;
  }

  async getModel(entityRef: string): Promise<ModelRecord | undefined> {
    const row = await this.db<DbModelRow>('models')
      .where({ entity_ref: entityRef })
      .first();
    return row ? toModel(row) : undefined;
  }

  async listModels(): Promise<ModelRecord[]> {
    const rows = await this.db<DbModelRow>('models').orderBy('entity_ref');
    return rows.map(toModel);
  }

  async listKnownRefs(refs: string[]): Promise<string[]> {
    const rows = await inSlices(refs, slice =>
      this.db<DbModelRow>('models')
        .whereIn('entity_ref', slice)
        .select('entity_ref'),
    );
    return rows.map(r => r.entity_ref);
  }
}
