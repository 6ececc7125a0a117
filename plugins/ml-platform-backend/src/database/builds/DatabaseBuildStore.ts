import { ConflictError, NotFoundError } from '@backstage/errors';
import {
  BuildStatus,
  BuildStep,
  BuildTrigger,
  ModelBuild,
} from '@internal/plugin-ml-platform-common';
import { randomUUID } from 'node:crypto';
import { Knex } from 'knex';
import {
  defined,
  fromJson,
  inSlices,
  isUniqueViolation,
  iso,
  num,
  opt,
  toDate,
} from '../conversions';
import { DbBuildLogRow, DbBuildRow, DbModelRow } from '../tables';
import { BuildLogLine, BuildStore, BuildUpdate, NewBuild } from './BuildStore';

/** Triggers that build a commit at most once per model. */
const AUTOMATIC: BuildTrigger[] = ['push', 'poll'];

function toBuild(row: DbBuildRow): ModelBuild {
  return {
    id: row.id,
    modelRef: row.model_ref,
    version: num(row.version),
    status: row.status as BuildStatus,
    trigger: row.trigger as BuildTrigger,
    triggerSource: opt(row.trigger_source),
    requestedBy: opt(row.requested_by),
    branch: opt(row.branch),
    commitSha: opt(row.commit_sha),
    commitMessage: opt(row.commit_message),
    commitAuthor: opt(row.commit_author),
    failureReason: opt(row.failure_reason),
    steps: fromJson<BuildStep[]>(row.steps) ?? [],
    artifactUri: opt(row.artifact_uri),
    artifactDigest: opt(row.artifact_digest),
    manifest: fromJson<ModelBuild['manifest']>(row.manifest),
    createdAt: iso(row.created_at),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}

/** The `builds` and `build_logs` tables. */
export class DatabaseBuildStore implements BuildStore {
  constructor(private readonly db: Knex) {}

  private builds() {
    return this.db<DbBuildRow>('builds');
  }

  async createBuild(build: NewBuild): Promise<ModelBuild> {
    const id = randomUUID();
    await this.db
      .transaction(async tx => {
        const now = new Date();
        // The models row is the per-model version counter; the unique
        // (model_ref, version) index backs it up against races.
        await tx<DbModelRow>('models')
          .insert({
            entity_ref: build.modelRef,
            last_build_version: 0,
            registered_at: now,
            updated_at: now,
          })
          .onConflict('entity_ref')
          .ignore();
        await tx<DbModelRow>('models')
          .where({ entity_ref: build.modelRef })
          .increment('last_build_version', 1);
        const counter = await tx<DbModelRow>('models')
          .where({ entity_ref: build.modelRef })
          .first('last_build_version');
        await tx<DbBuildRow>('builds').insert({
          id,
          model_ref: build.modelRef,
          version: num(counter?.last_build_version),
          status: 'queued',
          trigger: build.trigger,
          trigger_source: build.triggerSource ?? null,
          requested_by: build.requestedBy ?? null,
          branch: build.branch ?? null,
          commit_sha: build.commitSha ?? null,
          automatic_commit: AUTOMATIC.includes(build.trigger)
            ? build.commitSha ?? null
            : null,
          steps: JSON.stringify(build.steps),
          created_at: now,
        });
      })
      .catch(error => {
        if (isUniqueViolation(error) && AUTOMATIC.includes(build.trigger)) {
          throw new ConflictError(
            `${build.commitSha} of ${build.modelRef} was already built automatically`,
          );
        }
        throw error;
      });
    return (await this.getBuild(id))!;
  }

  async updateBuild(id: string, update: BuildUpdate): Promise<ModelBuild> {
    const count = await this.builds()
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
          started_at: toDate(update.startedAt),
          finished_at: toDate(update.finishedAt),
        }),
      );
    if (!count) throw new NotFoundError(`No build with id ${id}`);
    return (await this.getBuild(id))!;
  }

  async getBuild(id: string): Promise<ModelBuild | undefined> {
    const row = await this.builds().where({ id }).first();
    return row ? toBuild(row) : undefined;
  }

  async getBuildManifest(id: string): Promise<unknown | undefined> {
    const row = await this.builds().where({ id }).first('manifest');
    return fromJson<unknown>(row?.manifest);
  }

  async listBuilds(options: {
    modelRef?: string;
    status?: BuildStatus[];
    limit?: number;
    offset?: number;
    order?: 'newest' | 'oldest';
  }): Promise<{ items: ModelBuild[]; totalCount: number }> {
    const base = this.builds();
    if (options.modelRef) base.where({ model_ref: options.modelRef });
    if (options.status) base.whereIn('status', options.status);
    const [{ n }] = await base
      .clone()
      .count<{ n: number | string }[]>({ n: '*' });
    const dir = options.order === 'oldest' ? 'asc' : 'desc';
    const rows = await base
      .clone()
      .orderBy([
        { column: 'created_at', order: dir },
        { column: 'version', order: dir },
      ])
      .limit(options.limit ?? 50)
      .offset(options.offset ?? 0);
    return { items: rows.map(toBuild), totalCount: num(n) };
  }

  async listBuildsOfCommit(
    modelRef: string,
    commitSha: string,
  ): Promise<ModelBuild[]> {
    const rows = await this.builds()
      .where({ model_ref: modelRef, commit_sha: commitSha })
      .orderBy('version', 'desc');
    return rows.map(toBuild);
  }

  async getLatestBuilds(refs: string[]): Promise<Map<string, ModelBuild>> {
    const rows = await inSlices(refs, slice =>
      this.db<DbBuildRow>('builds as b')
        .whereIn('b.model_ref', slice)
        .where(
          'b.version',
          this.db('builds as b2')
            .max('b2.version')
            .whereRaw('b2.model_ref = b.model_ref'),
        )
        .select('b.*'),
    );
    return new Map(rows.map(row => [row.model_ref, toBuild(row)]));
  }

  async claimNextBuild(workerId: string): Promise<ModelBuild | undefined> {
    // Optimistic claim: pick the oldest queued build, then flip it only if it
    // is still queued; a concurrent claimer that lost the race tries the next.
    for (let attempt = 0; attempt < 5; attempt++) {
      const candidate = await this.builds()
        .where({ status: 'queued' })
        .orderBy([
          { column: 'created_at', order: 'asc' },
          { column: 'version', order: 'asc' },
        ])
        .first('id');
      if (!candidate) return undefined;
      const now = new Date();
      const claimed = await this.builds()
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
    await this.builds()
      .whereIn('id', ids)
      .where({ status: 'running' })
      .update({ heartbeat_at: new Date() });
  }

  async listStaleBuilds(before: Date): Promise<ModelBuild[]> {
    const rows = await this.builds()
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
    const cancelled = await this.builds()
      .where({ id, status: 'queued' })
      .update({
        status: 'cancelled',
        finished_at: now,
        failure_reason: 'Cancelled before it started',
      });
    if (cancelled) return 'cancelled';
    const requested = await this.builds()
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
    const rows = await this.builds()
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
    await this.db.batchInsert<Omit<DbBuildLogRow, 'id'>>(
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
    const rows = await this.db<DbBuildLogRow>('build_logs')
      .where({ build_id: buildId })
      .where('id', '>', options?.afterId ?? 0)
      .orderBy('id', 'asc')
      .limit(options?.limit ?? 100000);
    return rows.map(r => ({
      id: num(r.id),
      step: opt(r.step),
      line: r.line,
      createdAt: iso(r.created_at),
    }));
  }
}
