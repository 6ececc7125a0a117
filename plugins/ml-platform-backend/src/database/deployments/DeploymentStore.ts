import {
  BatchSettings,
  DeploymentStatus,
  DeploymentType,
  ModelDeployment,
} from '@internal/plugin-ml-platform-common';

export interface NewDeployment {
  modelRef: string;
  buildId: string;
  type: DeploymentType;
  replicas: number;
  minReplicas: number;
  maxReplicas: number;
  batch?: BatchSettings;
  createdBy?: string;
}

export type DeploymentUpdate = Partial<
  Pick<
    ModelDeployment,
    | 'buildId'
    | 'status'
    | 'reason'
    | 'replicas'
    | 'minReplicas'
    | 'maxReplicas'
    | 'readyReplicas'
    | 'batch'
    | 'replicaStatus'
  >
> & {
  /** Labels the entity asks the deployment's workloads to carry. */
  labels?: Record<string, string>;
  /** null wakes a scaled-to-zero deployment. */
  scaledToZeroAt?: string | null;
  lastScheduledAt?: string;
};

/** A deployment with what several backend instances share about it. */
export interface DeploymentRecord extends ModelDeployment {
  /** The backend instance driving the runtime for it, while claimed. */
  owner?: string;
  ownerHeartbeatAt?: string;
  /** The last invocation on any instance. */
  lastRequestAt?: string;
  labels?: Record<string, string>;
}

/**
 * Desired state of deployments (deleted ones stay for history), and what
 * backend instances share about them: which one drives each, when it was
 * last invoked, the replicas its runtime reported.
 */
export interface DeploymentStore {
  /**
   * Stores a new deployment. A model has at most one live (not deleted,
   * stopped or failed) deployment of each type: the database's unique index
   * refuses a second one with a ConflictError, whoever inserts first.
   */
  createDeployment(deployment: NewDeployment): Promise<ModelDeployment>;
  updateDeployment(
    id: string,
    update: DeploymentUpdate,
  ): Promise<ModelDeployment>;
  /** Marks it deleted; it disappears from lists but stays for history. */
  deleteDeployment(id: string): Promise<void>;
  getDeployment(id: string): Promise<ModelDeployment | undefined>;
  listDeployments(options: {
    modelRef?: string;
    type?: DeploymentType;
    status?: DeploymentStatus[];
  }): Promise<ModelDeployment[]>;
  /** Live deployments with their claims, idle times and labels. */
  listDeploymentRecords(options: {
    type?: DeploymentType;
  }): Promise<DeploymentRecord[]>;
  getDeploymentRecord(id: string): Promise<DeploymentRecord | undefined>;
  /**
   * Makes `owner` the instance that drives a deployment: when nobody does,
   * it already does, or the owner's heartbeat is older than `staleBefore`.
   * True when it owns it now; safe when instances claim at once.
   */
  claimDeployment(
    id: string,
    owner: string,
    staleBefore: Date,
  ): Promise<boolean>;
  /** Keeps `owner`'s claims on these deployments alive. */
  heartbeatDeployments(owner: string, ids: string[]): Promise<void>;
  /** Gives up `owner`'s claim on one deployment, or on all of them. */
  releaseDeployments(owner: string, id?: string): Promise<void>;
  /** Records invocations (deployment id to time); never moves a time back. */
  noteDeploymentRequests(requests: Map<string, Date>): Promise<void>;
  /**
   * Records that a batch schedule started an execution at `at`, if nobody
   * recorded a run since `previous`: true for exactly one caller.
   */
  claimScheduledRun(
    id: string,
    previous: string | undefined,
    at: string,
  ): Promise<boolean>;
  /** The live online deployment of each of `refs` that has one. */
  getLiveOnlineDeployments(
    refs: string[],
  ): Promise<Map<string, ModelDeployment>>;
}
