import {
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { InputError, NotFoundError } from '@backstage/errors';
import {
  BuildTrigger,
  ModelBuild,
  mlPlatformBuildCancelPermission,
  mlPlatformBuildCreatePermission,
} from '@internal/plugin-ml-platform-common';
import { GitCommandError } from '@internal/plugin-ml-platform-node';
import { principalRef } from '../access/ModelAccess';
import { Caller, ChangeOutcome, ModelChanges } from '../activity/ModelChanges';
import { MlPlatformStore, ModelRecord } from '../database/MlPlatformStore';
import { Quotas } from '../quotas/Quotas';
import { ModelCatalog } from '../services/ModelCatalog';
import { initialSteps } from './BuildRunner';
import {
  GitCredentials,
  resolveBranch,
  resolveDefaultBranch,
  sourceFromEntity,
} from './GitSource';

/** A push to a repository, from a webhook event. */
export interface PushEvent {
  /** Every URL the provider gives for the repository (clone, ssh, web). */
  repositoryUrls: string[];
  branch: string;
  commitSha: string;
  commitMessage?: string;
  commitAuthor?: string;
  pusher?: string;
  /** Files the pushed commits touched, when the provider says. */
  changedPaths?: string[];
  /** The event topic, e.g. `github.push`. */
  topic: string;
}

/**
 * Comparable form of a repository URL: host and path, no scheme, user,
 * `.git` or trailing slash (`git@host:o/r.git` = `https://host/o/r`).
 */
export function normalizeRepoUrl(url: string): string {
  let u = url.trim();
  const scp = u.match(/^[\w.-]+@([^:/]+):(.+)$/);
  if (scp) u = `${scp[1]}/${scp[2]}`;
  u = u.replace(/^[a-z+]+:\/\//i, '').replace(/^[^@/]+@/, '');
  u = u.replace(/\/+$/, '').replace(/\.git$/, '');
  const [host, ...rest] = u.split('/');
  return [host.toLowerCase().replace(/:\d+$/, ''), ...rest].join('/');
}

const COMMIT_SHA = /^[0-9a-f]{7,64}$/i;

/**
 * Starts builds: on request (UI, SDK, scaffolder), on push events and on
 * polling. Each trigger is recorded on the build; automatic triggers build a
 * commit only if no build of it exists, and a repeated request returns the
 * build of that commit still queued or running.
 */
export class BuildService {
  constructor(
    private readonly options: {
      store: MlPlatformStore;
      models: ModelCatalog;
      changes: ModelChanges;
      quotas: Quotas;
      credentials: GitCredentials;
      logger: LoggerService;
      /** The local end of the queue: claim at once, stop a local build. */
      queue: {
        wake(): void;
        abortLocal(buildId: string, reason: string): boolean;
      };
    },
  ) {}

  /**
   * A build the caller asked for (UI, SDK, scaffolder), if they may build
   * the model and its queue has room.
   */
  async requestBuild(request: {
    ref: { namespace: string; name: string };
    branch?: string;
    commit?: string;
    trigger: Extract<BuildTrigger, 'api' | 'scaffolder'>;
    caller: Caller;
  }): Promise<{ build: ModelBuild; created: boolean }> {
    return this.options.models.change(
      request.ref,
      request.caller,
      { action: 'build.create', permission: mlPlatformBuildCreatePermission },
      (entity, modelRef) => this.queueBuild(entity, modelRef, request),
    );
  }

  private async queueBuild(
    entity: Entity,
    modelRef: string,
    request: Parameters<BuildService['requestBuild']>[0],
  ): Promise<ChangeOutcome<{ build: ModelBuild; created: boolean }>> {
    const { store } = this.options;
    let model = await store.getModel(modelRef);
    if (!model?.gitUrl) {
      const source = sourceFromEntity(entity);
      if (!source) {
        throw new InputError(
          `${modelRef} has no Git source: give its entity a backstage.io/source-location (url:...) or ml-platform/git-url annotation, or register it with a gitUrl`,
        );
      }
      model = await store.upsertModel({
        entityRef: modelRef,
        gitUrl: source.url,
        gitPath: source.path,
        defaultBranch: source.branch,
        manifestPath: source.manifestPath,
      });
    }

    const env = this.options.credentials.envFor(model.gitUrl!);
    let branch = request.branch;
    let commitSha = request.commit;
    if (commitSha !== undefined && !COMMIT_SHA.test(commitSha)) {
      throw new InputError(
        'body.commit: expected a commit SHA (7 to 64 hex digits)',
      );
    }
    try {
      if (!commitSha) {
        branch ??= await this.trackedBranch(model, env);
        commitSha = await resolveBranch(model.gitUrl!, branch, env);
        if (!commitSha) {
          throw new InputError(
            `body.branch: no branch "${branch}" in ${model.gitUrl}`,
          );
        }
      }
    } catch (error) {
      if (error instanceof GitCommandError) {
        throw new InputError(`Cannot read ${model.gitUrl}: ${error.message}`);
      }
      throw error;
    }
    const what = `${branch ? `${branch} at ` : ''}${commitSha.slice(0, 8)}`;

    const inProgress = (
      await store.listBuildsOfCommit(modelRef, commitSha)
    ).find(
      b =>
        b.trigger === request.trigger &&
        (b.status === 'queued' || b.status === 'running'),
    );
    if (inProgress) {
      return {
        result: { build: inProgress, created: false },
        message: `Build v${inProgress.version} of ${what} is already ${inProgress.status}`,
        subjectId: inProgress.id,
      };
    }

    await this.options.quotas.checkQueuedBuilds(modelRef);
    const build = await store.createBuild({
      modelRef,
      trigger: request.trigger,
      triggerSource: request.trigger === 'api' ? 'POST /builds' : 'scaffolder',
      requestedBy: principalRef(request.caller.credentials),
      branch,
      commitSha,
      steps: initialSteps(),
    });
    this.options.queue.wake();
    return {
      result: { build, created: true },
      message: `Queued build v${build.version} of ${what}`,
      subjectId: build.id,
    };
  }

  /** Builds every registered model whose repository and branch the push hit. */
  async onPush(push: PushEvent): Promise<ModelBuild[]> {
    const urls = new Set(
      push.repositoryUrls.filter(Boolean).map(normalizeRepoUrl),
    );
    const builds: ModelBuild[] = [];
    for (const model of await this.options.store.listModels()) {
      if (!model.gitUrl || !urls.has(normalizeRepoUrl(model.gitUrl))) continue;
      const branch =
        model.defaultBranch ??
        (await this.trackedBranch(
          model,
          this.options.credentials.envFor(model.gitUrl),
        ).catch(() => 'main'));
      if (branch !== push.branch) continue;
      if (model.gitPath && push.changedPaths) {
        const prefix = `${model.gitPath.replace(/\/+$/, '')}/`;
        if (!push.changedPaths.some(p => p.startsWith(prefix))) {
          this.options.logger.debug(
            `Push to ${push.branch} does not touch ${model.entityRef}`,
          );
          continue;
        }
      }
      const build = await this.createAutomaticBuild(model, 'push', {
        triggerSource: push.topic,
        requestedBy: push.pusher,
        branch,
        commitSha: push.commitSha,
      });
      if (build) {
        await this.options.store.updateBuild(build.id, {
          commitMessage: push.commitMessage,
          commitAuthor: push.commitAuthor,
        });
        builds.push(build);
      }
    }
    return builds;
  }

  /** `git ls-remote` every registered model's branch; builds new heads. */
  async poll(): Promise<ModelBuild[]> {
    const builds: ModelBuild[] = [];
    for (const model of await this.options.store.listModels()) {
      if (!model.gitUrl) continue;
      const env = this.options.credentials.envFor(model.gitUrl);
      try {
        const branch = await this.trackedBranch(model, env);
        const sha = await resolveBranch(model.gitUrl, branch, env);
        if (!sha) continue;
        const build = await this.createAutomaticBuild(model, 'poll', {
          triggerSource: 'git ls-remote',
          branch,
          commitSha: sha,
        });
        if (build) builds.push(build);
      } catch (error) {
        this.options.logger.warn(
          `Polling ${model.entityRef} (${model.gitUrl}) failed: ${error}`,
        );
      }
    }
    return builds;
  }

  async listBuilds(
    ref: { namespace: string; name: string },
    page: { limit: number; offset: number },
    credentials: BackstageCredentials,
  ) {
    const entity = await this.options.models.getEntity(ref, credentials);
    return this.options.store.listBuilds({
      modelRef: stringifyEntityRef(entity),
      ...page,
    });
  }

  /** A build, if the caller may see its model. */
  async getBuild(
    id: string,
    credentials: BackstageCredentials,
  ): Promise<ModelBuild> {
    const build = await this.options.store.getBuild(id);
    if (!build) throw new NotFoundError(`No build with id ${id}`);
    await this.options.models.assertVisible(build.modelRef, credentials);
    return build;
  }

  /** Cancels a queued build, or stops a running one (its step is killed). */
  async cancel(id: string, caller: Caller): Promise<ModelBuild> {
    const build = await this.getBuild(id, caller.credentials);
    return this.options.changes.apply(
      caller,
      {
        action: 'build.cancel',
        permission: mlPlatformBuildCancelPermission,
        modelRef: build.modelRef,
        subjectId: id,
      },
      async () => {
        const outcome = await this.options.store.cancelBuild(id);
        if (outcome === 'requested') {
          // Other instances see the request on their next heartbeat.
          this.options.queue.abortLocal(id, 'Cancelled');
        }
        const after = (await this.options.store.getBuild(id))!;
        const messages = {
          cancelled: `Cancelled build v${build.version} before it started`,
          requested: `Stopped build v${build.version} while it ran`,
          finished: `Build v${build.version} had already ended (${build.status})`,
        };
        return { result: after, message: messages[outcome] };
      },
    );
  }

  /** For callers that already checked the caller may see it. */
  async getBuildUnchecked(id: string): Promise<ModelBuild> {
    const build = await this.options.store.getBuild(id);
    if (!build) throw new NotFoundError(`No build with id ${id}`);
    return build;
  }

  readLog(buildId: string, afterId?: number) {
    return this.options.store.readBuildLog(buildId, { afterId });
  }

  private async createAutomaticBuild(
    model: ModelRecord,
    trigger: 'push' | 'poll',
    fields: {
      triggerSource: string;
      requestedBy?: string;
      branch: string;
      commitSha: string;
    },
  ): Promise<ModelBuild | undefined> {
    const existing = await this.options.store.listBuildsOfCommit(
      model.entityRef,
      fields.commitSha,
    );
    if (existing.length > 0) return undefined;
    return this.options.changes.record(
      { actor: `ml-platform:${trigger}` },
      { action: 'build.create', modelRef: model.entityRef },
      async () => {
        const build = await this.options.store.createBuild({
          modelRef: model.entityRef,
          trigger,
          steps: initialSteps(),
          ...fields,
        });
        const what = `${fields.branch} at ${fields.commitSha.slice(0, 8)}`;
        this.options.logger.info(
          `Build v${build.version} of ${model.entityRef} queued by ${trigger} (${what})`,
        );
        this.options.queue.wake();
        return {
          result: build,
          message: `Queued build v${build.version} of ${what} (${trigger}${
            fields.requestedBy ? ` by ${fields.requestedBy}` : ''
          })`,
          subjectId: build.id,
        };
      },
    );
  }

  private async trackedBranch(
    model: ModelRecord,
    env: Record<string, string>,
  ): Promise<string> {
    if (model.defaultBranch) return model.defaultBranch;
    return (await resolveDefaultBranch(model.gitUrl!, env)) ?? 'main';
  }
}
