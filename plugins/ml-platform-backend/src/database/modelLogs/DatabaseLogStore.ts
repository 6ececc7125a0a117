import { Knex } from 'knex';
import { insertRows } from '../insertRows';
import { DbModelLogRow } from '../tables';
import {
  LOG_LEVELS,
  LogLevel,
  LogQuery,
  LogSource,
  LogStore,
  ModelLogLine,
  NewLogLine,
} from './LogStore';

const TABLE = 'model_logs';
const INSERT_CHUNK = 300;
const DELETE_CHUNK = 5000;
const COLUMNS = [
  'model_ref',
  'source',
  'subject_id',
  'version',
  'time',
  'level',
  'stream',
  'line',
] as const;

/** `%`, `_` and the escape itself are literal in a search. */
function likePattern(q: string) {
  return `%${q.toLowerCase().replace(/[\\%_]/g, c => `\\${c}`)}%`;
}

function fromRow(r: DbModelLogRow): ModelLogLine {
  const line: ModelLogLine = {
    id: Number(r.id),
    modelRef: r.model_ref,
    source: r.source as LogSource,
    subjectId: r.subject_id,
    version: r.version,
    time: Number(r.time),
    level: r.level as LogLevel,
    line: r.line,
  };
  if (r.stream) line.stream = r.stream;
  return line;
}

/** Model logs in the plugin's database. */
export class DatabaseLogStore implements LogStore {
  constructor(private readonly db: Knex) {}

  async appendLines(lines: NewLogLine[]): Promise<void> {
    if (lines.length === 0) return;
    const rows = lines.map(l => ({
      model_ref: l.modelRef,
      source: l.source,
      subject_id: l.subjectId,
      version: l.version,
      time: l.time,
      level: l.level,
      stream: l.stream ?? null,
      line: l.line,
    }));
    await insertRows(this.db, TABLE, rows, {
      columns: COLUMNS,
      chunk: INSERT_CHUNK,
    });
  }

  async searchLines(q: LogQuery): Promise<ModelLogLine[]> {
    const query = this.db<DbModelLogRow>(TABLE)
      .where('model_ref', q.modelRef)
      .limit(q.limit);
    if (q.source) query.where('source', q.source);
    if (q.subjectId) query.where('subject_id', q.subjectId);
    if (q.level) {
      query.whereIn('level', LOG_LEVELS.slice(LOG_LEVELS.indexOf(q.level)));
    }
    if (q.from !== undefined) query.where('time', '>=', q.from);
    if (q.to !== undefined) query.where('time', '<', q.to);
    if (q.q) {
      query.whereRaw("LOWER(line) LIKE ? ESCAPE '\\'", [likePattern(q.q)]);
    }
    if (q.afterId !== undefined) {
      query.where('id', '>', q.afterId).orderBy('id', 'asc');
      return (await query).map(fromRow);
    }
    query.orderBy('id', 'desc');
    return (await query).map(fromRow).reverse();
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
