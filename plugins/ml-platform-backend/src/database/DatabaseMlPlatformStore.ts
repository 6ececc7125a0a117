import {
  DatabaseService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { NotFoundError } from '@backstage/errors';
import {
  ModelBuild,
  ModelDeployment,
  ModelPlatformState,
} from '@internal/plugin-ml-platform-common';
import { randomUUID } from 'node:crypto';
import { Knex } from 'knex';
import {
  BuildLogLine,
  BuildUpdate,
  ChunkRecord,
  DeploymentUpdate,
  ExecutionRecord,
  MlPlatformStore,
  ModelRecord,
  NewBuild,
  NewDeployment,
  NewExecution,
} from './MlPlatformStore';

const migrationsDir = resolvePackagePath(
  '@internal/plugin-ml-platform-backend',
  'migrations',
);

/** SQLite returns epoch numbers, PostgreSQL Date objects. */
export function iso(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) return value.toISOString();
  return new Date(
    typeof value === 'string' && /^\d+$/.test(value)
      ? Number(value)
      : (value as number | string),
  ).toISOString();
}

function date(value: string | undefined): Date | null | undefined {
  if (value === undefined) return undefined;
  return value === null ? null : new Date(value);
}

export function opt<T>(value: T | null | undefined): T | undefined {
  return value === null ? undefined : value;
}

function json(value: string | null | undefined): any {
  return value === null || value === undefined ? undefined : JSON.parse(value);
}

/** Drops undefined keys so knex leaves those columns alone. */
function defined<T extends Record<string, unknown>>(row: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(row).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}

function toBuild(row: any): ModelBuild {
  return {
    id: row.id,
    modelRef: row.model_ref,
    version: Number(row.version),
    status: row.status,
    trigger: row.trigger,
    triggerSource: opt(row.trigger_source),
    requestedBy: opt(row.requested_by),
    branch: opt(row.branch),
    commitSha: opt(row.commit_sha),
    commitMessage: opt(row.commit_message),
    commitAuthor: opt(row.commit_author),
    failureReason: opt(row.failure_reason),
    steps: json(row.steps) ?? [],
    artifactUri: opt(row.artifact_uri),
    artifactDigest: opt(row.artifact_digest),
    manifest: json(row.manifest),
    createdAt: iso(row.created_at)!,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}

function toDeployment(row: any): ModelDeployment {
  return {
    id: row.id,
    modelRef: row.model_ref,
    buildId: row.build_id,
    type: row.type,
    status: row.status,
    reason: opt(row.reason),
    replicas: Number(row.replicas),
    minReplicas: Number(row.min_replicas),
    maxReplicas: Number(row.max_replicas),
    readyReplicas: Number(row.ready_replicas),
    batch: json(row.batch),
    scaledToZeroAt: iso(row.scaled_to_zero_at),
    lastScheduledAt: iso(row.last_scheduled_at),
    createdBy: opt(row.created_by),
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
  };
}

function toModel(row: any): ModelRecord {
  return {
    entityRef: row.entity_ref,
    gitUrl: opt(row.git_url),
    gitPath: opt(row.git_path),
    defaultBranch: opt(row.default_branch),
    manifestPath: opt(row.manifest_path),
    registeredAt: iso(row.registered_at)!,
  };
}

function toChunk(row: any): ChunkRecord {
  return {
    executionId: row.execution_id,
    seq: Number(row.seq),
    rowStart: Number(row.row_start),
    rowEnd: Number(row.row_end),
    status: row.status,
    attempts: Number(row.attempts),
    error: opt(row.error),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}

const LIVE_DEPLOYMENT_STATUSES = ['pending', 'deploying', 'ready', 'degraded'];
const ACTIVE_EXECUTION_STATUSES = ['pending', 'running'];

/** The knex implementation, tested on SQLite and PostgreSQL. */
export class DatabaseMlPlatformStore implements MlPlatformStore {
  static async create(options: {
    database: DatabaseService;
    skipMigrations?: boolean;
  }): Promise<DatabaseMlPlatformStore> {
    const client = await options.database.getClient();
    if (!options.database.migrations?.skip && !options.skipMigrations) {
      await client.migrate.latest({ directory: migrationsDir });
    }
    return new DatabaseMlPlatformStore(client);
  }

  private constructor(private readonly db: Knex) {}

  async upsertModel(
    model: Omit<ModelRecord, 'registeredAt'>,
  ): Promise<ModelRecord> {
    const now = new Date();
    await this.db('models')
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
    const row = await this.db('models')
      .where({ entity_ref: entityRef })
      .first();
    return row ? toModel(row) : undefined;
  }

  async listModels(): Promise<ModelRecord[]> {
    const rows = await this.db('models').orderBy('entity_ref');
    return rows.map(toModel);
  }

  async getModelStates(
    refs: string[],
  ): Promise<Map<string, ModelPlatformState>> {
    const states = new Map<string, ModelPlatformState>();
    if (refs.length === 0) return states;
    const state = (ref: string) => {
      let s = states.get(ref);
      if (!s) {
        s = { registered: true, runningExecutions: 0 };
        states.set(ref, s);
      }
      return s;
    };

    // whereIn over many refs is chunked to stay under parameter limits.
    for (let i = 0; i < refs.length; i += 500) {
      const slice = refs.slice(i, i + 500);
      const models = await this.db('models')
        .whereIn('entity_ref', slice)
        .select('entity_ref');
      models.forEach(m => state(m.entity_ref));

      const latest = await this.db('builds as b')
        .whereIn('b.model_ref', slice)
        .where(
          'b.version',
          this.db('builds as b2')
            .max('b2.version')
            .whereRaw('b2.model_ref = b.model_ref'),
        )
        .select('b.*');
      latest.forEach(row => {
        state(row.model_ref).latestBuild = toBuild(row);
      });

      const online = await this.db('deployments')
        .whereIn('model_ref', slice)
        .where({ type: 'online' })
        .whereNull('deleted_at')
        .whereIn('status', LIVE_DEPLOYMENT_STATUSES)
        .orderBy('created_at', 'desc');
      online.forEach(row => {
        const s = state(row.model_ref);
        s.liveDeployment ??= toDeployment(row);
      });

      const running: { model_ref: string; n: number | string }[] =
        await this.db('executions')
          .whereIn('model_ref', slice)
          .whereIn('status', ACTIVE_EXECUTION_STATUSES)
          .groupBy('model_ref')
          .select('model_ref')
          .count<{ model_ref: string; n: number | string }[]>({ n: '*' });
      running.forEach(row => {
        state(row.model_ref).runningExecutions = Number(row.n);
      });
    }
    return states;
  }

  async createBuild(build: NewBuild): Promise<ModelBuild> {
    const id = randomUUID();
    await this.db.transaction(async tx => {
      const now = new Date();
      // The models row is the per-model version counter; the unique
      // (model_ref, version) index backs it up against races.
      await tx('models')
        .insert({
          entity_ref: build.modelRef,
          last_build_version: 0,
          registered_at: now,
          updated_at: now,
        })
        .onConflict('entity_ref')
        .ignore();
      await tx('models')
        .where({ entity_ref: build.modelRef })
        .increment('last_build_version', 1);
      const { last_build_version: version } = await tx('models')
        .where({ entity_ref: build.modelRef })
        .first('last_build_version');
      await tx('builds').insert({
        id,
        model_ref: build.modelRef,
        version,
        status: 'queued',
        trigger: build.trigger,
        trigger_source: build.triggerSource ?? null,
        requested_by: build.requestedBy ?? null,
        branch: build.branch ?? null,
        commit_sha: build.commitSha ?? null,
        steps: JSON.stringify(build.steps),
        created_at: now,
      });
    });
    return (await this.getBuild(id))!;
  }

  async updateBuild(id: string, update: BuildUpdate): Promise<ModelBuild> {
    const count = await this.db('builds')
      .where({ id })
      .update(
        defined({
          status: update.status,
          branch: update.branch,
          commit_sha: update.commitSha,
          commit_message: update.commitMessage,
          commit_author: update.commitAuthor,
          failure_reason: update.failureReason,
          steps: update.steps && JSON.stringify(update.steps),
          manifest:
            update.manifest === undefined
              ? undefined
              : JSON.stringify(update.manifest),
          artifact_uri: update.artifactUri,
          artifact_digest: update.artifactDigest,
          started_at: date(update.startedAt),
          finished_at: date(update.finishedAt),
        }),
      );
    if (!count) throw new NotFoundError(`No build with id ${id}`);
    return (await this.getBuild(id))!;
  }

  async getBuild(id: string): Promise<ModelBuild | undefined> {
    const row = await this.db('builds').where({ id }).first();
    return row ? toBuild(row) : undefined;
  }

  async getBuildManifest(id: string): Promise<unknown | undefined> {
    const row = await this.db('builds').where({ id }).first('manifest');
    return json(row?.manifest);
  }

  async listBuilds(options: {
    modelRef?: string;
    status?: string[];
    limit?: number;
    offset?: number;
    order?: 'newest' | 'oldest';
  }): Promise<{ items: ModelBuild[]; totalCount: number }> {
    const base = this.db('builds');
    if (options.modelRef) base.where({ model_ref: options.modelRef });
    if (options.status) base.whereIn('status', options.status);
    const [{ n }] = await base.clone().count({ n: '*' });
    const dir = options.order === 'oldest' ? 'asc' : 'desc';
    const rows = await base
      .clone()
      .orderBy([
        { column: 'created_at', order: dir },
        { column: 'version', order: dir },
      ])
      .limit(options.limit ?? 50)
      .offset(options.offset ?? 0);
    return { items: rows.map(toBuild), totalCount: Number(n) };
  }

  async listBuildsOfCommit(
    modelRef: string,
    commitSha: string,
  ): Promise<ModelBuild[]> {
    const rows = await this.db('builds')
      .where({ model_ref: modelRef, commit_sha: commitSha })
      .orderBy('version', 'desc');
    return rows.map(toBuild);
  }

  async claimNextBuild(workerId: string): Promise<ModelBuild | undefined> {
    // Optimistic claim: pick the oldest queued build, then flip it only if it
    // is still queued; a concurrent claimer that lost the race tries the next.
    for (let attempt = 0; attempt < 5; attempt++) {
      const candidate = await this.db('builds')
        .where({ status: 'queued' })
        .orderBy([
          { column: 'created_at', order: 'asc' },
          { column: 'version', order: 'asc' },
        ])
        .first('id');
      if (!candidate) return undefined;
      const now = new Date();
      const claimed = await this.db('builds')
        .where({ id: candidate.id, status: 'queued' })
        .update({
          status: 'running',
          claimed_by: workerId,
          heartbeat_at: now,
          started_at: now,
        });
      if (claimed) return this.getBuild(candidate.id);
    }
    return undefined;
  }

  async heartbeatBuilds(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db('builds')
      .whereIn('id', ids)
      .where({ status: 'running' })
      .update({ heartbeat_at: new Date() });
  }

  async listStaleBuilds(before: Date): Promise<ModelBuild[]> {
    const rows = await this.db('builds')
      .where({ status: 'running' })
      .where(q =>
        q.where('heartbeat_at', '<', before).orWhereNull('heartbeat_at'),
      );
    return rows.map(toBuild);
  }

  async cancelBuild(
    id: string,
  ): Promise<'cancelled' | 'requested' | 'finished'> {
    const now = new Date();
    const cancelled = await this.db('builds')
      .where({ id, status: 'queued' })
      .update({
        status: 'cancelled',
        finished_at: now,
        failure_reason: 'Cancelled before it started',
      });
    if (cancelled) return 'cancelled';
    const requested = await this.db('builds')
      .where({ id, status: 'running' })
      .update({ cancel_requested_at: now });
    if (requested) return 'requested';
    if (!(await this.getBuild(id))) {
      throw new NotFoundError(`No build with id ${id}`);
    }
    return 'finished';
  }

  async listCancelRequested(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.db('builds')
      .whereIn('id', ids)
      .whereNotNull('cancel_requested_at')
      .select('id');
    return rows.map(r => r.id);
  }

  async appendBuildLog(
    buildId: string,
    lines: { step?: string; line: string }[],
  ): Promise<void> {
    if (lines.length === 0) return;
    const now = new Date();
    await this.db.batchInsert(
      'build_logs',
      lines.map(l => ({
        build_id: buildId,
        step: l.step ?? null,
        line: l.line,
        created_at: now,
      })),
      200,
    );
  }

  async readBuildLog(
    buildId: string,
    options?: { afterId?: number; limit?: number },
  ): Promise<BuildLogLine[]> {
    const rows = await this.db('build_logs')
      .where({ build_id: buildId })
      .where('id', '>', options?.afterId ?? 0)
      .orderBy('id', 'asc')
      .limit(options?.limit ?? 100000);
    return rows.map(r => ({
      id: Number(r.id),
      step: opt(r.step),
      line: r.line,
      createdAt: iso(r.created_at)!,
    }));
  }

  async createDeployment(d: NewDeployment): Promise<ModelDeployment> {
    const id = randomUUID();
    const now = new Date();
    await this.db('deployments').insert({
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
    return (await this.getDeployment(id))!;
  }

  async updateDeployment(
    id: string,
    update: DeploymentUpdate,
  ): Promise<ModelDeployment> {
    const count = await this.db('deployments')
      .where({ id })
      .whereNull('deleted_at')
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
          scaled_to_zero_at:
            update.scaledToZeroAt === undefined
              ? undefined
              : date(update.scaledToZeroAt ?? undefined) ?? null,
          last_scheduled_at: date(update.lastScheduledAt),
          updated_at: new Date(),
        }),
      );
    if (!count) throw new NotFoundError(`No deployment with id ${id}`);
    return (await this.getDeployment(id))!;
  }

  async deleteDeployment(id: string): Promise<void> {
    const count = await this.db('deployments')
      .where({ id })
      .whereNull('deleted_at')
      .update({ deleted_at: new Date(), status: 'stopped', ready_replicas: 0 });
    if (!count) throw new NotFoundError(`No deployment with id ${id}`);
  }

  async getDeployment(id: string): Promise<ModelDeployment | undefined> {
    const row = await this.db('deployments')
      .where({ id })
      .whereNull('deleted_at')
      .first();
    return row ? toDeployment(row) : undefined;
  }

  async listDeployments(options: {
    modelRef?: string;
    type?: string;
    status?: string[];
  }): Promise<ModelDeployment[]> {
    const q = this.db('deployments').whereNull('deleted_at');
    if (options.modelRef) q.where({ model_ref: options.modelRef });
    if (options.type) q.where({ type: options.type });
    if (options.status) q.whereIn('status', options.status);
    const rows = await q.orderBy('created_at', 'desc');
    return rows.map(toDeployment);
  }

  async createExecution(e: NewExecution): Promise<ExecutionRecord> {
    const id = randomUUID();
    await this.db('executions').insert({
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
    update: Partial<ExecutionRecord>,
  ): Promise<ExecutionRecord> {
    const count = await this.db('executions')
      .where({ id })
      .update(
        defined({
          status: update.status,
          chunks_total: update.chunksTotal,
          rows_total: update.rowsTotal,
          error: update.error,
          result_uri: update.resultUri,
          started_at: date(update.startedAt),
          finished_at: date(update.finishedAt),
        }),
      );
    if (!count) throw new NotFoundError(`No execution with id ${id}`);
    return (await this.getExecution(id))!;
  }

  async getExecution(id: string): Promise<ExecutionRecord | undefined> {
    const rows = await this.executionsWithCounts().where('e.id', id);
    return rows.length ? this.toExecution(rows[0]) : undefined;
  }

  async listExecutions(options: {
    modelRef?: string;
    status?: string[];
    limit?: number;
  }): Promise<ExecutionRecord[]> {
    const q = this.executionsWithCounts();
    if (options.modelRef) q.where('e.model_ref', options.modelRef);
    if (options.status) q.whereIn('e.status', options.status);
    const rows = await q
      .orderBy('e.created_at', 'desc')
      .limit(options.limit ?? 50);
    return rows.map(r => this.toExecution(r));
  }

  private executionsWithCounts() {
    const rows = this.db.raw('(c.row_end - c.row_start)');
    return this.db('executions as e')
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

  private toExecution(row: any): ExecutionRecord {
    return {
      id: row.id,
      modelRef: row.model_ref,
      deploymentId: opt(row.deployment_id),
      buildId: row.build_id,
      status: row.status,
      input: json(row.input),
      output: json(row.output),
      chunkSize: Number(row.chunk_size),
      parallelism: Number(row.parallelism),
      maxRetries: Number(row.max_retries),
      chunksTotal:
        row.chunks_total === null ? undefined : Number(row.chunks_total),
      rowsTotal: row.rows_total === null ? undefined : Number(row.rows_total),
      chunksDone: Number(row.chunks_done ?? 0),
      chunksFailed: Number(row.chunks_failed ?? 0),
      rowsDone: Number(row.rows_done ?? 0),
      rowsFailed: Number(row.rows_failed ?? 0),
      error: opt(row.error),
      trigger: row.trigger,
      resultUri: opt(row.result_uri),
      createdBy: opt(row.created_by),
      createdAt: iso(row.created_at)!,
      startedAt: iso(row.started_at),
      finishedAt: iso(row.finished_at),
    };
  }

  async claimExecution(
    id: string,
    workerId: string,
    staleBefore?: Date,
  ): Promise<boolean> {
    const q = this.db('executions')
      .where({ id })
      .whereIn('status', ['pending', 'running']);
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
    await this.db('executions')
      .whereIn('id', ids)
      .update({ heartbeat_at: new Date() });
  }

  async listStaleExecutions(before: Date): Promise<ExecutionRecord[]> {
    const rows = await this.executionsWithCounts()
      .whereIn('e.status', ['pending', 'running'])
      .where(q =>
        q
          .where('e.heartbeat_at', '<', before)
          .orWhere(w =>
            w.whereNull('e.heartbeat_at').where('e.created_at', '<', before),
          ),
      );
    return rows.map(r => this.toExecution(r));
  }

  async requestExecutionCancel(id: string): Promise<void> {
    const count = await this.db('executions')
      .where({ id })
      .update({ cancel_requested_at: new Date() });
    if (!count) throw new NotFoundError(`No execution with id ${id}`);
  }

  async listCancelRequestedExecutions(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.db('executions')
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
      await this.db('chunks')
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
    update: Partial<ChunkRecord>,
  ): Promise<void> {
    const count = await this.db('chunks')
      .where({ execution_id: executionId, seq })
      .update(
        defined({
          status: update.status,
          attempts: update.attempts,
          error: update.error,
          started_at: date(update.startedAt),
          finished_at: date(update.finishedAt),
        }),
      );
    if (!count) {
      throw new NotFoundError(`No chunk ${seq} in execution ${executionId}`);
    }
  }

  async listChunks(
    executionId: string,
    options?: { status?: string[] },
  ): Promise<ChunkRecord[]> {
    const q = this.db('chunks').where({ execution_id: executionId });
    if (options?.status) q.whereIn('status', options.status);
    const rows = await q.orderBy('seq', 'asc');
    return rows.map(toChunk);
  }
}
