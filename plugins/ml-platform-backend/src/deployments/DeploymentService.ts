import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import {
  BatchSettings,
  CreateDeploymentBody,
  ModelDeployment,
} from '@internal/plugin-ml-platform-common';
import {
  ReplicaStatus,
  Runtime,
  RuntimeLogLine,
} from '@internal/plugin-ml-platform-node';
import { MlPlatformStore } from '../database/MlPlatformStore';
import { ModelCatalog } from '../services/ModelCatalog';
import { BuildPackages } from './BuildPackages';
import { Reconciler } from './Reconciler';
import { workloadLabels } from './workloadLabels';

/** A deployment with what its runtime says about each replica. */
export type DeploymentView = ModelDeployment & {
  replicaStatus?: ReplicaStatus[];
};

export interface UpdateDeploymentRequest {
  buildId?: string;
  replicas?: number;
  minReplicas?: number;
  maxReplicas?: number;
}

/**
 * Desired state of deployments: validates requests against the model's
 * builds and manifest, writes them to the database and asks the reconciler to
 * apply them. One live deployment of each type per model.
 */
export class DeploymentService {
  constructor(
    private readonly options: {
      store: MlPlatformStore;
      models: ModelCatalog;
      packages: BuildPackages;
      runtime: Runtime;
      reconciler: Reconciler;
    },
  ) {}

  async create(
    ref: { namespace: string; name: string },
    request: CreateDeploymentBody,
    credentials: BackstageCredentials,
    createdBy?: string,
  ): Promise<DeploymentView> {
    const { store } = this.options;
    const entity = await this.options.models.getEntity(ref, credentials);
    const modelRef = stringifyEntityRef(entity);
    const build = await this.deployableBuild(modelRef, request.buildId);
    const manifest = await this.options.packages.manifestOf(build);

    const existing = await store.listDeployments({
      modelRef,
      type: request.type,
    });
    if (existing.length > 0) {
      throw new ConflictError(
        `${modelRef} already has ${request.type} deployment ${existing[0].id}; PATCH deployments/${existing[0].id} to roll out build v${build.version}, or DELETE it first`,
      );
    }

    let sizes = { replicas: 0, minReplicas: 0, maxReplicas: 0 };
    let batch: BatchSettings | undefined;
    if (request.type === 'online') {
      const online = manifest.spec.online;
      const replicas = request.replicas ?? online?.replicas ?? 1;
      sizes = checkReplicas({
        replicas,
        minReplicas:
          request.minReplicas ?? online?.minReplicas ?? Math.min(replicas, 1),
        maxReplicas:
          request.maxReplicas ?? online?.maxReplicas ?? Math.max(replicas, 1),
      });
    } else {
      batch = {
        chunkSize:
          request.batch?.chunkSize ?? manifest.spec.batch?.chunkSize ?? 1000,
        parallelism:
          request.batch?.parallelism ?? manifest.spec.batch?.parallelism ?? 2,
        maxRetries:
          request.batch?.maxRetries ?? manifest.spec.batch?.maxRetries ?? 3,
        schedule: request.batch?.schedule ?? manifest.spec.batch?.schedule,
        input: request.batch?.input,
        output: request.batch?.output,
      };
      if (batch.schedule && !(batch.input && batch.output)) {
        throw new InputError(
          `body.batch.input: the schedule "${batch.schedule}" needs the input and output its executions use`,
        );
      }
    }

    const deployment = await store.createDeployment({
      modelRef,
      buildId: build.id,
      type: request.type,
      ...sizes,
      batch,
      createdBy,
    });
    if (deployment.type === 'online') {
      await this.options.store.updateDeployment(deployment.id, {
        status: 'deploying',
        reason: `Starting ${sizes.replicas} replica(s) of build v${build.version}`,
        labels: workloadLabels(entity),
      });
      void this.options.reconciler.reconcile(deployment.id);
    } else {
      await store.updateDeployment(deployment.id, {
        status: 'ready',
        reason: 'Runs nothing until an execution is triggered',
      });
    }
    return this.view((await store.getDeployment(deployment.id))!);
  }

  async list(
    ref: { namespace: string; name: string },
    credentials: BackstageCredentials,
  ): Promise<DeploymentView[]> {
    const entity = await this.options.models.getEntity(ref, credentials);
    const deployments = await this.options.store.listDeployments({
      modelRef: stringifyEntityRef(entity),
    });
    return deployments.map(d => this.view(d));
  }

  async get(
    id: string,
    credentials: BackstageCredentials,
  ): Promise<DeploymentView> {
    return this.view(await this.visible(id, credentials));
  }

  /** Scale, roll out another build, or roll back to an earlier one. */
  async update(
    id: string,
    request: UpdateDeploymentRequest,
    credentials: BackstageCredentials,
  ): Promise<DeploymentView> {
    const deployment = await this.visible(id, credentials);
    const build = request.buildId
      ? await this.deployableBuild(deployment.modelRef, request.buildId)
      : undefined;
    if (
      deployment.type === 'batch' &&
      (request.replicas !== undefined ||
        request.minReplicas !== undefined ||
        request.maxReplicas !== undefined)
    ) {
      throw new InputError(
        'body.replicas: batch deployments run no replicas; executions set their parallelism',
      );
    }
    const sizes =
      deployment.type === 'online'
        ? checkReplicas({
            replicas: request.replicas ?? deployment.replicas,
            minReplicas: request.minReplicas ?? deployment.minReplicas,
            maxReplicas:
              request.maxReplicas ??
              Math.max(deployment.maxReplicas, request.replicas ?? 0),
          })
        : {};
    const changes = [
      build && build.id !== deployment.buildId
        ? `roll out build v${build.version}`
        : undefined,
      'replicas' in sizes && sizes.replicas !== deployment.replicas
        ? `scale to ${sizes.replicas}`
        : undefined,
    ].filter(Boolean);
    // The entity's label selector may have changed since it was deployed.
    const labels =
      deployment.type === 'online'
        ? workloadLabels(
            await this.options.models.getEntity(
              parseEntityRef(deployment.modelRef),
              credentials,
            ),
          )
        : undefined;
    await this.options.store.updateDeployment(id, {
      buildId: build?.id,
      labels,
      ...sizes,
      // A change of desired state also wakes a scaled-to-zero deployment.
      scaledToZeroAt: deployment.type === 'online' ? null : undefined,
      ...(deployment.type === 'online' && changes.length
        ? { status: 'deploying' as const, reason: `${changes.join(' and ')}` }
        : {}),
    });
    if (deployment.type === 'online') {
      this.options.reconciler.noteRequest(id);
      void this.options.reconciler.reconcile(id);
    }
    return this.view((await this.options.store.getDeployment(id))!);
  }

  async remove(id: string, credentials: BackstageCredentials): Promise<void> {
    const deployment = await this.visible(id, credentials);
    await this.options.store.deleteDeployment(deployment.id);
    if (deployment.type === 'online') {
      await this.options.reconciler.reconcile(id);
    }
  }

  async readLogs(
    id: string,
    options: { tail?: number; afterSeq?: number },
    credentials: BackstageCredentials,
  ): Promise<RuntimeLogLine[]> {
    await this.visible(id, credentials);
    return this.options.runtime.readLogs(id, options);
  }

  onLog(id: string, listener: (line: RuntimeLogLine) => void) {
    return this.options.runtime.onLog(id, listener);
  }

  /** The deployment, if the caller may see its model. */
  async visible(
    id: string,
    credentials: BackstageCredentials,
  ): Promise<ModelDeployment> {
    const deployment = await this.options.store.getDeployment(id);
    if (!deployment) throw new NotFoundError(`No deployment with id ${id}`);
    await this.options.models.assertVisible(deployment.modelRef, credentials);
    return deployment;
  }

  private view(d: ModelDeployment): DeploymentView {
    // This instance's runtime when it runs the deployment; else the
    // replicas as the instance that drives it reported them.
    const status =
      d.type === 'online'
        ? this.options.runtime.getOnlineStatus(d.id)
        : undefined;
    return status ? { ...d, replicaStatus: status.replicas } : d;
  }

  private async deployableBuild(modelRef: string, buildId: string) {
    const build = await this.options.store.getBuild(buildId);
    if (!build || build.modelRef !== modelRef) {
      throw new InputError(`body.buildId: ${modelRef} has no build ${buildId}`);
    }
    if (build.status !== 'succeeded') {
      throw new InputError(
        `body.buildId: build v${build.version} is ${build.status}; only succeeded builds can be deployed`,
      );
    }
    return build;
  }
}

function checkReplicas(sizes: {
  replicas: number;
  minReplicas: number;
  maxReplicas: number;
}) {
  if (sizes.minReplicas > sizes.replicas) {
    throw new InputError(
      `body.minReplicas: ${sizes.minReplicas} is more than replicas (${sizes.replicas})`,
    );
  }
  if (sizes.replicas > sizes.maxReplicas) {
    throw new InputError(
      `body.replicas: ${sizes.replicas} is more than maxReplicas (${sizes.maxReplicas})`,
    );
  }
  return sizes;
}
