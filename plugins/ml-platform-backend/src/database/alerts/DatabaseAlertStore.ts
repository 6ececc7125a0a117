import {
  AlertHistoryEntry,
  AlertState,
  ManifestAlertRule,
} from '@internal/plugin-ml-platform-common';
import { Knex } from 'knex';
import { DbAlertHistoryRow, DbAlertRuleRow, DbAlertStateRow } from '../tables';
import {
  AlertStateRecord,
  AlertStore,
  NewAlertHistoryEntry,
} from './AlertStore';

/** bigint columns come back as strings on PostgreSQL. */
const num = (v: unknown): number | undefined =>
  v === null || v === undefined ? undefined : Number(v);

function toState(row: DbAlertStateRow): AlertStateRecord {
  return {
    modelRef: row.model_ref,
    rule: row.rule,
    state: row.state as AlertState,
    since: num(row.since),
    pendingSince: num(row.pending_since),
    value: num(row.value),
    evaluatedAt: num(row.evaluated_at),
    silencedUntil: num(row.silenced_until),
    silencedBy: row.silenced_by ?? undefined,
  };
}

function toHistory(row: DbAlertHistoryRow): AlertHistoryEntry {
  return {
    id: Number(row.id),
    rule: row.rule,
    state: row.state as AlertState,
    value: num(row.value) ?? null,
    threshold: num(row.threshold) ?? null,
    at: new Date(Number(row.at)).toISOString(),
    source: row.source as AlertHistoryEntry['source'],
    notified: Boolean(row.notified),
    silenced: Boolean(row.silenced),
  };
}

function historyRow(entry: NewAlertHistoryEntry) {
  return {
    model_ref: entry.modelRef,
    rule: entry.rule,
    state: entry.state,
    value: entry.value,
    threshold: entry.threshold,
    at: entry.at,
    source: entry.source,
    notified: entry.notified,
    silenced: entry.silenced,
  };
}

/**
 * The alert tables (migrations/20261203600000_alerts.js) through knex; takes
 * a migrated client (`createDatabaseStores`).
 */
export class DatabaseAlertStore implements AlertStore {
  constructor(private readonly db: Knex) {}

  async listRules(modelRef: string): Promise<ManifestAlertRule[]> {
    const rows = await this.db<DbAlertRuleRow>('alert_rules')
      .where({ model_ref: modelRef })
      .orderBy('position');
    return rows.map(row => ({ ...JSON.parse(row.rule), name: row.name }));
  }

  async replaceRules(
    modelRef: string,
    rules: ManifestAlertRule[],
    options: { updatedBy?: string; keep: string[]; now: number },
  ): Promise<void> {
    await this.db.transaction(async tx => {
      await tx('alert_rules').where({ model_ref: modelRef }).delete();
      if (rules.length > 0) {
        await tx('alert_rules').insert(
          rules.map(({ name, ...rule }, position) => ({
            model_ref: modelRef,
            name,
            rule: JSON.stringify(rule),
            position,
            updated_by: options.updatedBy ?? null,
            updated_at: options.now,
          })),
        );
      }
      const kept = [...new Set([...options.keep, ...rules.map(r => r.name)])];
      await tx('alert_states')
        .where({ model_ref: modelRef })
        .whereNotIn('rule', kept)
        .delete();
    });
  }

  async listModelsWithRules(): Promise<string[]> {
    const rows = await this.db('alert_rules').distinct('model_ref');
    return rows.map(r => r.model_ref);
  }

  async listStates(modelRef: string): Promise<AlertStateRecord[]> {
    const rows = await this.db<DbAlertStateRow>('alert_states').where({
      model_ref: modelRef,
    });
    return rows.map(toState);
  }

  async saveState(
    state: AlertStateRecord,
    change?: NewAlertHistoryEntry,
  ): Promise<void> {
    await this.db.transaction(async tx => {
      const row = {
        model_ref: state.modelRef,
        rule: state.rule,
        state: state.state,
        since: state.since ?? null,
        pending_since: state.pendingSince ?? null,
        value: state.value ?? null,
        evaluated_at: state.evaluatedAt ?? null,
      };
      // The silence is the user's, set apart: never overwritten here.
      await tx('alert_states')
        .insert(row)
        .onConflict(['model_ref', 'rule'])
        .merge(Object.keys(row).filter(k => k !== 'model_ref' && k !== 'rule'));
      if (change) {
        await tx('alert_history').insert(historyRow(change));
      }
    });
  }

  async deleteStatesExcept(modelRef: string, rules: string[]): Promise<number> {
    return this.db('alert_states')
      .where({ model_ref: modelRef })
      .whereNotIn('rule', rules)
      .delete();
  }

  async setSilence(
    modelRef: string,
    rule: string,
    until: number | undefined,
    by: string | undefined,
  ): Promise<void> {
    await this.db('alert_states')
      .insert({
        model_ref: modelRef,
        rule,
        state: 'ok',
        silenced_until: until ?? null,
        silenced_by: by ?? null,
      })
      .onConflict(['model_ref', 'rule'])
      .merge(['silenced_until', 'silenced_by']);
  }

  async addHistoryOnce(entry: NewAlertHistoryEntry): Promise<boolean> {
    return this.db.transaction(async tx => {
      const existing = await tx('alert_history')
        .where({
          model_ref: entry.modelRef,
          rule: entry.rule,
          state: entry.state,
          source: entry.source,
          at: entry.at,
        })
        .first();
      if (existing) return false;
      await tx('alert_history').insert(historyRow(entry));
      return true;
    });
  }

  async listHistory(options: {
    modelRef: string;
    rule?: string;
    limit: number;
    offset: number;
  }): Promise<{ items: AlertHistoryEntry[]; totalCount: number }> {
    const base = this.db<DbAlertHistoryRow>('alert_history').where({
      model_ref: options.modelRef,
      ...(options.rule ? { rule: options.rule } : {}),
    });
    const [{ n }] = await base.clone().count({ n: '*' });
    const rows = await base
      .clone()
      .orderBy([
        { column: 'at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(options.limit)
      .offset(options.offset);
    return { items: rows.map(toHistory), totalCount: Number(n) };
  }
}
