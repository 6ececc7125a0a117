import {
  BuildStatus,
  BuildStep,
  BuildTrigger,
  ModelBuild,
} from '@internal/plugin-ml-platform-common';

export interface NewBuild {
  modelRef: string;
  trigger: BuildTrigger;
  triggerSource?: string;
  requestedBy?: string;
  branch?: string;
  commitSha?: string;
  steps: BuildStep[];
}

export type BuildUpdate = Partial<
  Pick<
    ModelBuild,
    | 'status'
    | 'branch'
    | 'commitSha'
    | 'commitMessage'
    | 'commitAuthor'
    | 'failureReason'
    | 'steps'
    | 'artifactUri'
    | 'artifactDigest'
    | 'startedAt'
    | 'finishedAt'
  >
> & { manifest?: unknown };

export interface BuildLogLine {
  id: number;
  step?: string;
  line: string;
  createdAt: string;
}

/**
 * Builds, their queue (claims, heartbeats, cancel requests across backend
 * instances) and their logs.
 */
export interface BuildStore {
  /** Creates a queued build with the model's next version number. */
  createBuild(build: NewBuild): Promise<ModelBuild>;
  updateBuild(id: string, update: BuildUpdate): Promise<ModelBuild>;
  getBuild(id: string): Promise<ModelBuild | undefined>;
  /** The validated mlmodel.yaml of a build, once its validate step ran. */
  getBuildManifest(id: string): Promise<unknown | undefined>;
  listBuilds(options: {
    modelRef?: string;
    status?: BuildStatus[];
    limit?: number;
    offset?: number;
    order?: 'newest' | 'oldest';
  }): Promise<{ items: ModelBuild[]; totalCount: number }>;
  /** Every build of one commit of a model, newest first. */
  listBuildsOfCommit(
    modelRef: string,
    commitSha: string,
  ): Promise<ModelBuild[]>;
  /** The newest build of each of `refs` that has one. */
  getLatestBuilds(refs: string[]): Promise<Map<string, ModelBuild>>;
  /**
   * Moves the oldest queued build to running, owned by `workerId`; safe when
   * several backend instances claim at once.
   */
  claimNextBuild(workerId: string): Promise<ModelBuild | undefined>;
  /** Marks running builds as alive. */
  heartbeatBuilds(ids: string[]): Promise<void>;
  /** Running builds whose heartbeat is older than `before`: their runner died. */
  listStaleBuilds(before: Date): Promise<ModelBuild[]>;
  /**
   * Cancels a queued build at once; for a running one, records the request
   * for its runner. Says which happened.
   */
  cancelBuild(id: string): Promise<'cancelled' | 'requested' | 'finished'>;
  /** Those of `ids` whose cancellation was requested. */
  listCancelRequested(ids: string[]): Promise<string[]>;
  appendBuildLog(
    buildId: string,
    lines: { step?: string; line: string }[],
  ): Promise<void>;
  /** Log lines with an id greater than `afterId`, oldest first. */
  readBuildLog(
    buildId: string,
    options?: { afterId?: number; limit?: number },
  ): Promise<BuildLogLine[]>;
}
