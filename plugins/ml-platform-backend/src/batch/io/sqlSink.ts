import { InputError } from '@backstage/errors';
import { Knex } from 'knex';
import { ROW_ID_COLUMN } from './fileSink';
import { readResultFile } from './results';
import { ChunkResult, ResultSink } from './types';
import {
  ValueKind,
  kindOf,
  mergeKinds,
  predictionFields,
  toText,
} from './values';

/** Unquoted-identifier shape, at most PostgreSQL's 63 characters. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Bound parameters per INSERT, well below SQLite's and PostgreSQL's limits. */
const MAX_PARAMETERS = 10_000;
/**
 * knex writes a multi-row SQLite insert as a compound SELECT, which SQLite
 * caps at 500 terms.
 */
const MAX_ROWS_PER_INSERT = 500;

/** knex puts the whole SQL in the message; the database's reason is at the end. */
function shortMessage(error: unknown): string {
  const message = (error as Error).message ?? String(error);
  return message.length > 400 ? `…${message.slice(-400)}` : message;
}

/** Throws an InputError unless `name` is a plain identifier usable as a table name. */
export function validateTableName(name: string): string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw new InputError(
      `invalid output table name ${JSON.stringify(
        name,
      )}: use letters, digits and underscores, starting with a letter or underscore, at most 63 characters`,
    );
  }
  return name;
}

function validateColumnName(name: string, table: string): void {
  if (!IDENTIFIER.test(name)) {
    throw new InputError(
      `prediction field ${JSON.stringify(
        name,
      )} cannot become a column of table ${table}: column names use letters, digits and underscores, starting with a letter or underscore, at most 63 characters`,
    );
  }
}

/** Column kind of an existing column, from the type the database reports. */
function kindOfColumnType(type: string): ValueKind {
  const t = type.toLowerCase();
  if (t.includes('bool')) return 'boolean';
  if (/^(tiny|small|medium|big)?int(eger)?[248]?$/.test(t)) return 'integer';
  if (/double|float|real|numeric|decimal/.test(t)) return 'double';
  // JSON is stored as text, so an existing text column may hold either
  return 'text';
}

function addColumn(
  table: Knex.CreateTableBuilder,
  name: string,
  kind: ValueKind,
) {
  switch (kind) {
    case 'boolean':
      return table.boolean(name);
    case 'integer':
      return table.bigInteger(name);
    case 'double':
      return table.double(name);
    default:
      // objects are stored as JSON text: portable across SQLite and PostgreSQL
      return table.text(name);
  }
}

/** The database value for a value already known to fit the column's kind. */
function toColumnValue(value: unknown, kind: ValueKind): unknown {
  if (value === null || value === undefined) return null;
  if (kind === 'json') return JSON.stringify(value);
  if (kind === 'text') return toText(value);
  return value;
}

export interface SqlTableSinkOptions {
  knex: Knex;
  /** Created if missing; must match /^[A-Za-z_][A-Za-z0-9_]{0,62}$/. */
  table: string;
}

/**
 * Writes each chunk's predictions to a table as the chunk succeeds: one row
 * per input row, keyed by `row_id` (the primary key), one column per
 * prediction field (`prediction` for scalar predictions).
 *
 * The table is created from the first chunk written: integer → bigint,
 * other numbers → double, booleans → boolean, strings → text, objects and
 * lists → JSON text. A later chunk that brings a new field adds a column; one
 * whose values no longer fit widens the column (integer → double, else
 * text) so no chunk is ever rejected for its types.
 *
 * Each chunk is written in one transaction with INSERT … ON CONFLICT (row_id)
 * DO UPDATE, so a retried chunk replaces its rows instead of duplicating
 * them. Chunks are written one at a time per sink.
 */
export class SqlTableSink implements ResultSink {
  readonly description: string;
  private readonly knex: Knex;
  private readonly table: string;
  /** Known columns (row_id excluded) and the kind each holds; undefined until loaded. */
  private columns: Map<string, ValueKind> | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: SqlTableSinkOptions) {
    this.knex = options.knex;
    this.table = validateTableName(options.table);
    this.description = `table ${this.table}`;
  }

  writeChunk(resultPath: string): Promise<{ rows: number }> {
    // serialized: schema changes must not race, and SQLite has one writer
    const run = this.queue.then(() => this.write(resultPath));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Waits for pending chunk writes; returns the table's row count. */
  async finish(_results?: ChunkResult[]): Promise<{ rows: number }> {
    await this.queue;
    const [{ count }] = await this.knex(this.table).count({ count: '*' });
    return { rows: Number(count) };
  }

  private async write(resultPath: string): Promise<{ rows: number }> {
    // pass 1: the fields and their kinds, without holding the rows
    const kinds = new Map<string, ValueKind | undefined>();
    let rows = 0;
    for await (const { prediction } of readResultFile(resultPath)) {
      const fields = predictionFields(prediction);
      for (const name of Object.keys(fields)) {
        kinds.set(name, mergeKinds(kinds.get(name), kindOf(fields[name])));
      }
      rows += 1;
    }
    for (const name of kinds.keys()) {
      if (name === ROW_ID_COLUMN) {
        throw new InputError(
          `prediction field '${ROW_ID_COLUMN}' clashes with the primary key of ${this.description}`,
        );
      }
      validateColumnName(name, this.table);
    }
    const columns = await this.ensureColumns(kinds);
    const names = [...columns.keys()];
    const batchRows = Math.max(
      1,
      Math.min(
        MAX_ROWS_PER_INSERT,
        Math.floor(MAX_PARAMETERS / (names.length + 1)),
      ),
    );

    // pass 2: upsert in batches, all or nothing
    try {
      await this.knex.transaction(async trx => {
        let batch: Record<string, unknown>[] = [];
        const flush = async () => {
          if (batch.length === 0) return;
          await trx(this.table).insert(batch).onConflict(ROW_ID_COLUMN).merge();
          batch = [];
        };
        for await (const { rowId, prediction } of readResultFile(resultPath)) {
          const fields = predictionFields(prediction);
          // every column is set, so a retry also clears fields it no longer has
          const record: Record<string, unknown> = { [ROW_ID_COLUMN]: rowId };
          for (const name of names) {
            record[name] = toColumnValue(fields[name], columns.get(name)!);
          }
          batch.push(record);
          if (batch.length >= batchRows) await flush();
        }
        await flush();
      });
    } catch (error) {
      if (error instanceof InputError) throw error;
      throw new Error(
        `cannot write results of ${resultPath} to ${
          this.description
        }: ${shortMessage(error)}`,
      );
    }
    return { rows };
  }

  /** Creates the table or adds/widens columns so every field fits. */
  private async ensureColumns(
    kinds: Map<string, ValueKind | undefined>,
  ): Promise<Map<string, ValueKind>> {
    try {
      return await this.ensureColumnsOnce(kinds);
    } catch (error) {
      // e.g. another process added the column first: reload on the retry
      this.columns = undefined;
      throw error;
    }
  }

  private async ensureColumnsOnce(
    kinds: Map<string, ValueKind | undefined>,
  ): Promise<Map<string, ValueKind>> {
    const columns = await this.loadColumns();
    if (!columns) {
      await this.createTable(kinds);
      return (await this.loadColumns())!;
    }
    for (const [name, kind] of kinds) {
      // all-null fields wait for a chunk that shows their type
      if (!kind) continue;
      const existing = columns.get(name);
      if (!existing) {
        await this.knex.schema.alterTable(this.table, table => {
          addColumn(table, name, kind);
        });
        columns.set(name, kind);
        continue;
      }
      const widened = mergeKinds(existing, kind)!;
      if (widened !== existing) {
        await this.widenColumn(name, existing, widened);
        columns.set(name, widened);
      }
    }
    return columns;
  }

  private async createTable(
    kinds: Map<string, ValueKind | undefined>,
  ): Promise<void> {
    try {
      await this.knex.schema.createTable(this.table, table => {
        table.bigInteger(ROW_ID_COLUMN).primary().notNullable();
        for (const [name, kind] of kinds) {
          if (kind) addColumn(table, name, kind);
        }
      });
    } catch (error) {
      // created meanwhile by another process: use that one
      if (!(await this.knex.schema.hasTable(this.table))) throw error;
      this.columns = undefined;
      await this.ensureColumns(kinds);
      return;
    }
    this.columns = new Map(
      [...kinds].filter((e): e is [string, ValueKind] => Boolean(e[1])),
    );
  }

  private async widenColumn(
    name: string,
    from: ValueKind,
    to: ValueKind,
  ): Promise<void> {
    // SQLite columns take any value; only PostgreSQL needs the new type
    if ((this.knex.client as { dialect?: string }).dialect === 'postgresql') {
      const storage = (k: ValueKind) => (k === 'json' ? 'text' : k);
      if (storage(from) === storage(to)) return;
      const type = to === 'double' ? 'double precision' : 'text';
      await this.knex.raw(
        `ALTER TABLE ?? ALTER COLUMN ?? TYPE ${type} USING ??::${type}`,
        [this.table, name, name],
      );
    }
  }

  private async loadColumns(): Promise<Map<string, ValueKind> | undefined> {
    if (this.columns) return this.columns;
    if (!(await this.knex.schema.hasTable(this.table))) return undefined;
    const info = await this.knex(this.table).columnInfo();
    if (!info[ROW_ID_COLUMN]) {
      throw new InputError(
        `${this.description} exists but has no ${ROW_ID_COLUMN} column; choose another table or add a ${ROW_ID_COLUMN} primary key`,
      );
    }
    const columns = new Map<string, ValueKind>();
    for (const [name, column] of Object.entries(info)) {
      if (name !== ROW_ID_COLUMN)
        columns.set(name, kindOfColumnType(column.type));
    }
    this.columns = columns;
    return columns;
  }
}
