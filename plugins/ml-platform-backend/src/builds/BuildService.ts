import {
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import {
  BuildTrigger,
  ModelBuild,
  mlPlatformBuildCancelPermission,
  mlPlatformBuildCreatePermission,
} from '@internal/plugin-ml-platform-common';
import {
  COMMIT_SHA,
  FULL_COMMIT_SHA,
  GitCommandError,
  checkBranchName,
  redactUrlCredentials,
} from '@internal/plugin-ml-platform-node';
import { principalRef } from '../access/ModelAccess';
import { Caller, ChangeOutcome, ModelChanges } from '../activity/ModelChanges';
import { ModelRecord, PlatformStores } from '../database';
import { Quotas } from '../quotas/Quotas';
import { ModelCatalog } from '../services/ModelCatalog';
import { KeyedQueue } from '../util/KeyedQueue';
import { initialSteps } from './BuildRunner';
import {
  GitRemotes,
  assertBranchName,
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

/** What an automatic build records about where it came from. */
interface AutomaticBuildFields {
  triggerSource: string;
  requestedBy?: string;
  branch: string;
  commitSha: string;
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

/**
 * Starts builds: on request (UI, SDK, scaffolder), on push events and on
 * polling. Each trigger is recorded on the build; automatic triggers build a
 * commit only if no build of it exists, and a repeated request returns the
 * build of that commit still queued or running.
 */
export class BuildService {
  /** Automatic builds of a model are decided one at a time (once per commit). */
  private readonly decisions = new KeyedQueue();
  /** Models whose Git URL the policy refuses, warned about once. */
  private readonly refusedUrls = new Set<string>();

  constructor(
    private readonly options: {
      stores: Pick<PlatformStores, 'builds' | 'models'>;
      models: ModelCatalog;
      changes: ModelChanges;
      quotas: Quotas;
      git: GitRemotes;
      logger: LoggerService;
      /** The local end of the queue: claim at once, stop a local build. */
      queue: {
        wake(): void;
        abortLocal(buildId: string, reason: string): boolean;
      };
    },
  ) {}

  /**
   * Checks a model's Git source before it is registered: the clone URL
   * under the policy (no credentials inside), the branch by
   * `git check-ref-format`. Throws an InputError naming the body field.
   */
  async checkSource(source: { gitUrl?: string; defaultBranch?: string }) {
    if (source.gitUrl !== undefined) {
      this.options.git.assertAllowed(source.gitUrl, 'body.gitUrl');
    }
    if (source.defaultBranch !== undefined) {
      await assertBranchName(source.defaultBranch, 'body.defaultBranch');
    }
  }

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
    const { stores } = this.options;
    let model = await stores.models.getModel(modelRef);
    if (!model?.gitUrl) {
      const source = sourceFromEntity(entity);
      if (!source) {
        throw new InputError(
          `${modelRef} has no Git source: give its entity a backstage.io/source-location (url:...) or ml-platform/git-url annotation, or register it with a gitUrl`,
        );
      }
      this.options.git.assertAllowed(
        source.url,
        "gitUrl of the model's entity",
      );
      model = await stores.models.upsertModel({
        entityRef: modelRef,
        gitUrl: source.url,
        gitPath: source.path,
        defaultBranch: source.branch,
        manifestPath: source.manifestPath,
      });
    }

    const gitUrl = model.gitUrl!;
    this.options.git.assertAllowed(gitUrl, 'gitUrl of the model');
    const shownUrl = redactUrlCredentials(gitUrl);
    const env = this.options.git.envFor(gitUrl);
    let branch = request.branch;
    let commitSha = request.commit;
    if (commitSha !== undefined && !COMMIT_SHA.test(commitSha)) {
      throw new InputError(
        'body.commit: expected a commit SHA (7 to 64 hex digits)',
      );
    }
    if (branch !== undefined) await assertBranchName(branch, 'body.branch');
    try {
      if (!commitSha) {
        branch ??= await this.trackedBranch(model, env);
        commitSha = await resolveBranch(gitUrl, branch, env);
        if (!commitSha) {
          throw new InputError(
            `body.branch: no branch "${branch}" in ${shownUrl}`,
          );
        }
      }
    } catch (error) {
      if (error instanceof GitCommandError) {
        throw new InputError(`Cannot read ${shownUrl}: ${error.message}`);
      }
      throw error;
    }
    const what = `${branch ? `${branch} at ` : ''}${commitSha.slice(0, 8)}`;

    const inProgress = (
      await stores.builds.listBuildsOfCommit(modelRef, commitSha)
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
    const build = await stores.builds.createBuild({
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

  /**
   * Builds every registered model whose repository URL and tracked branch
   * the push names, at most once per commit. The push's commit and branch
   * are checked like user input: a push that is not well-formed builds
   * nothing.
   */
  async onPush(push: PushEvent): Promise<ModelBuild[]> {
    const { logger } = this.options;
    if (
      typeof push.commitSha !== 'string' ||
      !FULL_COMMIT_SHA.test(push.commitSha)
    ) {
      logger.warn('Push ignored: its commit is not a full SHA', {
        topic: push.topic,
      });
      return [];
    }
    const branchProblem = await checkBranchName(push.branch);
    if (branchProblem) {
      logger.warn(`Push ignored: its branch is ${branchProblem}`, {
        topic: push.topic,
      });
      return [];
    }
    const urls = new Set(
      push.repositoryUrls
        .filter((u): u is string => typeof u === 'string' && u.length > 0)
        .map(normalizeRepoUrl),
    );
    const builds: ModelBuild[] = [];
    for (const model of await this.options.stores.models.listModels()) {
      if (!model.gitUrl || !urls.has(normalizeRepoUrl(model.gitUrl))) continue;
      if (!this.urlAllowed(model)) continue;
      const branch =
        model.defaultBranch ??
        (await this.trackedBranch(
          model,
          this.options.git.envFor(model.gitUrl),
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
        await this.options.stores.builds.updateBuild(build.id, {
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
    for (const model of await this.options.stores.models.listModels()) {
      if (!model.gitUrl || !this.urlAllowed(model)) continue;
      const env = this.options.git.envFor(model.gitUrl);
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
          `Polling ${model.entityRef} (${redactUrlCredentials(
            model.gitUrl,
          )}) failed: ${redactUrlCredentials(String(error))}`,
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
    return this.options.stores.builds.listBuilds({
      modelRef: stringifyEntityRef(entity),
      ...page,
    });
  }

  /** A build, if the caller may see its model. */
  async getBuild(
    id: string,
    credentials: BackstageCredentials,
  ): Promise<ModelBuild> {
    const build = await this.options.stores.builds.getBuild(id);
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
        const outcome = await this.options.stores.builds.cancelBuild(id);
        if (outcome === 'requested') {
          // Other instances see the request on their next heartbeat.
          this.options.queue.abortLocal(id, 'Cancelled');
        }
        const after = (await this.options.stores.builds.getBuild(id))!;
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
    const build = await this.options.stores.builds.getBuild(id);
    if (!build) throw new NotFoundError(`No build with id ${id}`);
    return build;
  }

  readLog(buildId: string, afterId?: number) {
    return this.options.stores.builds.readBuildLog(buildId, { afterId });
  }

  /**
   * Whether the model's Git URL passes the policy; a model registered
   * before it (or through an entity annotation) is skipped, said once.
   */
  private urlAllowed(model: ModelRecord): boolean {
    const problem = this.options.git.problem(model.gitUrl!);
    if (!problem) return true;
    if (!this.refusedUrls.has(model.entityRef)) {
      this.refusedUrls.add(model.entityRef);
      this.options.logger.warn(
        `Not building ${model.entityRef} automatically: its Git URL is refused: ${problem}; register it again with an allowed gitUrl`,
      );
    }
    return false;
  }

  private createAutomaticBuild(
    model: ModelRecord,
    trigger: 'push' | 'poll',
    fields: AutomaticBuildFields,
  ): Promise<ModelBuild | undefined> {
    // Twenty copies of a push at once still build the commit once.
    return this.decisions.run(model.entityRef, () =>
      this.createAutomaticBuildNow(model, trigger, fields),
    );
  }

  private async createAutomaticBuildNow(
    model: ModelRecord,
    trigger: 'push' | 'poll',
    fields: AutomaticBuildFields,
  ): Promise<ModelBuild | undefined> {
    const existing = await this.options.stores.builds.listBuildsOfCommit(
      model.entityRef,
      fields.commitSha,
    );
    if (existing.length > 0) return undefined;
    // Another backend instance may win the race past that check: the
    // database's unique index refuses the second automatic build.
    return this.options.changes
      .record(
        { actor: `ml-platform:${trigger}` },
        { action: 'build.create', modelRef: model.entityRef },
        async () => {
          const build = await this.options.stores.builds.createBuild({
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
      )
      .catch(error => {
        if (error instanceof ConflictError) return undefined;
        throw error;
      });
  }

  /** The branch automatic builds follow; an entity's annotation is checked too. */
  private async trackedBranch(
    model: ModelRecord,
    env: Record<string, string>,
  ): Promise<string> {
    if (model.defaultBranch) {
      await assertBranchName(model.defaultBranch, 'defaultBranch of the model');
      return model.defaultBranch;
    }
    return (await resolveDefaultBranch(model.gitUrl!, env)) ?? 'main';
  }
}
