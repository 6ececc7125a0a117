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
  >
> & {
  /** null wakes a scaled-to-zero deployment. */
  scaledToZeroAt?: string | null;
  lastScheduledAt?: string;
};

/** Desired state of deployments; deleted ones stay for history. */
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
  /** The live online deployment of each of `refs` that has one. */
  getLiveOnlineDeployments(
    refs: string[],
  ): Promise<Map<string, ModelDeployment>>;
}
