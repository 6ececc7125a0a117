import { NotFoundError } from '@backstage/errors';
import {
  ExecutionInput,
  ExecutionOutput,
  ExecutionStatus,
} from '@internal/plugin-ml-platform-common';
import { randomUUID } from 'node:crypto';
import { Knex } from 'knex';
import {
  defined,
  fromJson,
  inSlices,
  iso,
  num,
  opt,
  toDate,
} from '../conversions';
import {
  DbChunkRow,
  DbExecutionRow,
  DbExecutionWithCountsRow,
} from '../tables';
import {
  ChunkRecord,
  ChunkStatus,
  ChunkUpdate,
  ExecutionRecord,
  ExecutionStore,
  ExecutionUpdate,
  NewExecution,
} from './ExecutionStore';

const ACTIVE_STATUSES: ExecutionStatus[] = ['pending', 'running'];

function toExecution(row: DbExecutionWithCountsRow): ExecutionRecord {
  return {
    id: row.id,
    modelRef: row.model_ref,
    deploymentId: opt(row.deployment_id),
    buildId: row.build_id,
    status: row.status as ExecutionStatus,
    input: fromJson<ExecutionInput>(row.input)!,
    output: fromJson<ExecutionOutput>(row.output)!,
    chunkSize: num(row.chunk_size),
    parallelism: num(row.parallelism),
    maxRetries: num(row.max_retries),
    chunksTotal: row.chunks_total === null ? undefined : num(row.chunks_total),
    rowsTotal: row.rows_total === null ? undefined : num(row.rows_total),
    chunksDone: num(row.chunks_done),
    chunksFailed: num(row.chunks_failed),
    rowsDone: num(row.rows_done),
    rowsFailed: num(row.rows_failed),
    error: opt(row.error),
    trigger: row.trigger as ExecutionRecord['trigger'],
    resultUri: opt(row.result_uri),
    createdBy: opt(row.created_by),
    createdAt: iso(row.created_at),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}

function toChunk(row: DbChunkRow): ChunkRecord {
  return {
    executionId: row.execution_id,
    seq: num(row.seq),
    rowStart: num(row.row_start),
    rowEnd: num(row.row_end),
    status: row.status as ChunkStatus,
    attempts: num(row.attempts),
    error: opt(row.error),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}

/** The `executions` and `chunks` tables. */
export class DatabaseExecutionStore implements ExecutionStore {
  constructor(private readonly db: Knex) {}

  private executions() {
    return this.db<DbExecutionRow>('executions');
  }

  async createExecution(e: NewExecution): Promise<ExecutionRecord> {
    const id = randomUUID();
    await this.executions().insert({
      id,
      model_ref: e.modelRef,
      deployment_id: e.deploymentId ?? null,
      build_id: e.buildId,
      status: 'pending',
      input: JSON.stringify(e.input),
      output: JSON.stringify(e.output),
      chunk_size: e.chunkSize,
      parallelism: e.parallelism,
      max_retries: e.maxRetries,
      trigger: e.trigger ?? 'api',
      created_by: e.createdBy ?? null,
      created_at: new Date(),
    });
    return (await this.getExecution(id))!;
  }

  async updateExecution(
    id: string,
    update: ExecutionUpdate,
  ): Promise<ExecutionRecord> {
    const count = await this.executions()
      .where({ id })
      .update(
        defined({
          status: update.status,
          chunks_total: update.chunksTotal,
          rows_total: update.rowsTotal,
          error: update.error,
          result_uri: update.resultUri,
          started_at: toDate(update.startedAt),
          finished_at: toDate(update.finishedAt),
        }),
      );
    if (!count) throw new NotFoundError(`No execution with id ${id}`);
    return (await this.getExecution(id))!;
  }

  async getExecution(id: string): Promise<ExecutionRecord | undefined> {
    const rows = await this.withCounts().where('e.id', id);
    return rows.length ? toExecution(rows[0]) : undefined;
  }

  async listExecutions(options: {
    modelRef?: string;
    status?: ExecutionStatus[];
    limit?: number;
  }): Promise<ExecutionRecord[]> {
    const q = this.withCounts();
    if (options.modelRef) q.where('e.model_ref', options.modelRef);
    if (options.status) q.whereIn('e.status', options.status);
    const rows = await q
      .orderBy('e.created_at', 'desc')
      .limit(options.limit ?? 50);
    return rows.map(toExecution);
  }

  async countActiveExecutions(refs: string[]): Promise<Map<string, number>> {
    const rows = await inSlices(refs, slice =>
      this.executions()
        .whereIn('model_ref', slice)
        .whereIn('status', ACTIVE_STATUSES)
        .groupBy('model_ref')
        .select('model_ref')
        .count<{ model_ref: string; n: number | string }[]>({ n: '*' }),
    );
    return new Map(rows.map(row => [row.model_ref, num(row.n)]));
  }

  /** Executions with the sums of their chunks. */
  private withCounts(): Knex.QueryBuilder<
    DbExecutionRow,
    DbExecutionWithCountsRow[]
  > {
    const rows = this.db.raw('(c.row_end - c.row_start)');
    return this.db<DbExecutionRow, DbExecutionWithCountsRow[]>(
      'executions as e',
    )
      .leftJoin('chunks as c', 'c.execution_id', 'e.id')
      .groupBy('e.id')
      .select('e.*')
      .select({
        chunks_done: this.db.raw(
          "SUM(CASE WHEN c.status = 'succeeded' THEN 1 ELSE 0 END)",
        ),
        chunks_failed: this.db.raw(
          "SUM(CASE WHEN c.status = 'failed' THEN 1 ELSE 0 END)",
        ),
        rows_done: this.db.raw(
          `SUM(CASE WHEN c.status = 'succeeded' THEN ${rows} ELSE 0 END)`,
        ),
        rows_failed: this.db.raw(
          `SUM(CASE WHEN c.status = 'failed' THEN ${rows} ELSE 0 END)`,
        ),
      });
  }

  async claimExecution(
    id: string,
    workerId: string,
    staleBefore?: Date,
  ): Promise<boolean> {
    const q = this.executions()
      .where({ id })
      .whereIn('status', ACTIVE_STATUSES);
    if (staleBefore) {
      q.where(w =>
        w.where('heartbeat_at', '<', staleBefore).orWhereNull('heartbeat_at'),
      );
    } else {
      q.whereNull('claimed_by');
    }
    const count = await q.update({
      claimed_by: workerId,
      heartbeat_at: new Date(),
    });
    return count === 1;
  }

  async heartbeatExecutions(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.executions()
      .whereIn('id', ids)
      .update({ heartbeat_at: new Date() });
  }

  async listStaleExecutions(before: Date): Promise<ExecutionRecord[]> {
    const rows = await this.withCounts()
      .whereIn('e.status', ACTIVE_STATUSES)
      .where(q =>
        q
          .where('e.heartbeat_at', '<', before)
          .orWhere(w =>
            w.whereNull('e.heartbeat_at').where('e.created_at', '<', before),
          ),
      );
    return rows.map(toExecution);
  }

  async requestExecutionCancel(id: string): Promise<void> {
    const count = await this.executions()
      .where({ id })
      .update({ cancel_requested_at: new Date() });
    if (!count) throw new NotFoundError(`No execution with id ${id}`);
  }

  async listCancelRequestedExecutions(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.executions()
      .whereIn('id', ids)
      .whereNotNull('cancel_requested_at')
      .select('id');
    return rows.map(r => r.id);
  }

  async addChunks(
    chunks: Omit<ChunkRecord, 'status' | 'attempts'>[],
  ): Promise<void> {
    // A resumed execution re-plans its chunks: the ones stored stay as they are.
    for (let i = 0; i < chunks.length; i += 200) {
      await this.db<DbChunkRow>('chunks')
        .insert(
          chunks.slice(i, i + 200).map(c => ({
            execution_id: c.executionId,
            seq: c.seq,
            row_start: c.rowStart,
            row_end: c.rowEnd,
            status: 'pending',
            attempts: 0,
          })),
        )
        .onConflict(['execution_id', 'seq'])
        .ignore();
    }
  }

  async updateChunk(
    executionId: string,
    seq: number,
    update: ChunkUpdate,
  ): Promise<void> {
    const count = await this.db<DbChunkRow>('chunks')
      .where({ execution_id: executionId, seq })
      .update(
        defined({
          status: update.status,
          attempts: update.attempts,
          error: update.error,
          started_at: toDate(update.startedAt),
          finished_at: toDate(update.finishedAt),
        }),
      );
    if (!count) {
      throw new NotFoundError(`No chunk ${seq} in execution ${executionId}`);
    }
  }

  async listChunks(
    executionId: string,
    options?: { status?: ChunkStatus[] },
  ): Promise<ChunkRecord[]> {
    const q = this.db<DbChunkRow>('chunks').where({
      execution_id: executionId,
    });
    if (options?.status) q.whereIn('status', options.status);
    const rows = await q.orderBy('seq', 'asc');
    return rows.map(toChunk);
  }
}
