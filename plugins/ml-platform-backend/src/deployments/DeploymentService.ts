import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import {
  BatchSettings,
  CreateDeploymentBody,
  DeploymentType,
  ModelDeployment,
  mlPlatformDeploymentCreatePermission,
  mlPlatformDeploymentDeletePermission,
  mlPlatformDeploymentUpdatePermission,
} from '@internal/plugin-ml-platform-common';
import {
  ReplicaStatus,
  Runtime,
  RuntimeLogLine,
} from '@internal/plugin-ml-platform-node';
import { principalRef } from '../access/ModelAccess';
import { Caller, ModelChanges } from '../activity/ModelChanges';
import { ExecutionInputs } from '../batch/ExecutionInputs';
import { PlatformStores } from '../database';
import { Quotas } from '../quotas/Quotas';
import { cronProblem } from '../batch/cron';
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
      stores: Pick<PlatformStores, 'builds' | 'deployments'>;
      models: ModelCatalog;
      changes: ModelChanges;
      quotas: Quotas;
      packages: BuildPackages;
      runtime: Runtime;
      reconciler: Reconciler;
      /** Checks a scheduled deployment's input and output up front. */
      inputs: ExecutionInputs;
    },
  ) {}

  async create(
    ref: { namespace: string; name: string },
    request: CreateDeploymentBody,
    caller: Caller,
  ): Promise<DeploymentView> {
    return this.options.models.change(
      ref,
      caller,
      {
        action: 'deployment.create',
        permission: mlPlatformDeploymentCreatePermission,
      },
      (entity, modelRef) =>
        this.createChecked(
          modelRef,
          request,
          workloadLabels(entity),
          principalRef(caller.credentials),
        ),
    );
  }

  private async createChecked(
    modelRef: string,
    request: CreateDeploymentBody,
    labels: Record<string, string>,
    createdBy?: string,
  ) {
    const { stores } = this.options;
    const build = await this.deployableBuild(modelRef, request.buildId);
    const manifest = await this.options.packages.manifestOf(build);

    // The unique index decides (see createDeployment below); asking first
    // answers a conflict before the sizes and quotas are looked at.
    await this.assertNoDeployment(modelRef, request.type, build.version);

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
      await this.options.quotas.checkOnlineReplicas(
        modelRef,
        sizes.maxReplicas,
      );
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
          request.batch?.schedule
            ? 'body.batch.schedule: a schedule needs the input and output its executions use'
            : `body.batch.input: the schedule "${batch.schedule}" needs the input and output its executions use`,
        );
      }
      // Checked now, not when the schedule first fires.
      const problem = batch.schedule && cronProblem(batch.schedule);
      if (problem) {
        throw new InputError(
          `${
            request.batch?.schedule ? 'body.batch' : 'spec.batch'
          }.schedule: expected a cron expression like "0 3 * * *": ${problem}`,
        );
      }
      if (batch.input) {
        await this.options.inputs.checkInput(
          modelRef,
          batch.input,
          'body.batch.input',
        );
      }
      if (batch.output) {
        this.options.inputs.checkOutput(batch.output, 'body.batch.output');
      }
    }

    const deployment = await stores.deployments
      .createDeployment({
        modelRef,
        buildId: build.id,
        type: request.type,
        ...sizes,
        batch,
        createdBy,
      })
      .catch(async error => {
        // Another request deployed the model since the check above.
        if (error?.name === 'ConflictError') {
          await this.assertNoDeployment(modelRef, request.type, build.version);
        }
        throw error;
      });
    if (deployment.type === 'online') {
      await this.options.stores.deployments.updateDeployment(deployment.id, {
        status: 'deploying',
        reason: `Starting ${sizes.replicas} replica(s) of build v${build.version}`,
        labels,
      });
      void this.options.reconciler.reconcile(deployment.id);
    } else {
      await stores.deployments.updateDeployment(deployment.id, {
        status: 'ready',
        reason: 'Runs nothing until an execution is triggered',
      });
    }
    return {
      result: this.view(
        (await stores.deployments.getDeployment(deployment.id))!,
      ),
      message:
        deployment.type === 'online'
          ? `Deployed build v${build.version} online with ${sizes.replicas} replica(s) (min ${sizes.minReplicas}, max ${sizes.maxReplicas})`
          : `Deployed build v${build.version} as a batch model${
              batch?.schedule ? ` on the schedule "${batch.schedule}"` : ''
            }`,
      subjectId: deployment.id,
    };
  }

  /** A ConflictError saying how to proceed when the model has one already. */
  private async assertNoDeployment(
    modelRef: string,
    type: DeploymentType,
    version: number,
  ) {
    const [existing] = await this.options.stores.deployments.listDeployments({
      modelRef,
      type,
    });
    if (existing) {
      throw new ConflictError(
        `${modelRef} already has ${type} deployment ${existing.id}; PATCH deployments/${existing.id} to roll out build v${version}, or DELETE it first`,
      );
    }
  }

  async list(
    ref: { namespace: string; name: string },
    credentials: BackstageCredentials,
  ): Promise<DeploymentView[]> {
    const entity = await this.options.models.getEntity(ref, credentials);
    const deployments = await this.options.stores.deployments.listDeployments({
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
    caller: Caller,
  ): Promise<DeploymentView> {
    const deployment = await this.visible(id, caller.credentials);
    return this.options.changes.apply(
      caller,
      {
        action: request.buildId ? 'deployment.rollout' : 'deployment.scale',
        permission: mlPlatformDeploymentUpdatePermission,
        modelRef: deployment.modelRef,
        subjectId: id,
      },
      () => this.updateChecked(deployment, request, caller.credentials),
    );
  }

  private async updateChecked(
    deployment: ModelDeployment,
    request: UpdateDeploymentRequest,
    credentials: BackstageCredentials,
  ) {
    const { id } = deployment;
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
    const sizes: Partial<ReplicaSizes> =
      deployment.type === 'online'
        ? checkReplicas({
            replicas: request.replicas ?? deployment.replicas,
            minReplicas: request.minReplicas ?? deployment.minReplicas,
            maxReplicas:
              request.maxReplicas ??
              Math.max(deployment.maxReplicas, request.replicas ?? 0),
          })
        : {};
    // Growing needs room in the quotas; shrinking is always allowed.
    if (
      sizes.maxReplicas !== undefined &&
      sizes.maxReplicas > deployment.maxReplicas
    ) {
      await this.options.quotas.checkOnlineReplicas(
        deployment.modelRef,
        sizes.maxReplicas,
        id,
      );
    }
    const changes = [
      build && build.id !== deployment.buildId
        ? `roll out build v${build.version}`
        : undefined,
      sizes.replicas !== undefined && sizes.replicas !== deployment.replicas
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
    await this.options.stores.deployments.updateDeployment(id, {
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
    const updated = (await this.options.stores.deployments.getDeployment(id))!;
    const sized =
      updated.type === 'online'
        ? `${updated.replicas} replica(s) (min ${updated.minReplicas}, max ${updated.maxReplicas})`
        : undefined;
    const said = changes.length
      ? changes.join(' and ')
      : `keep ${build ? `build v${build.version}` : 'its build'}`;
    return {
      result: this.view(updated),
      message: `${said[0].toUpperCase()}${said.slice(1)}${
        sized ? `: ${sized}` : ''
      }`,
    };
  }

  async remove(id: string, caller: Caller): Promise<void> {
    const deployment = await this.visible(id, caller.credentials);
    await this.options.changes.apply(
      caller,
      {
        action: 'deployment.delete',
        permission: mlPlatformDeploymentDeletePermission,
        modelRef: deployment.modelRef,
        subjectId: id,
      },
      async () => {
        await this.options.stores.deployments.deleteDeployment(deployment.id);
        if (deployment.type === 'online') {
          await this.options.reconciler.reconcile(id);
        }
        return {
          result: undefined,
          message: `Undeployed the ${deployment.type} deployment`,
        };
      },
    );
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
    const deployment = await this.options.stores.deployments.getDeployment(id);
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
    const build = await this.options.stores.builds.getBuild(buildId);
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

interface ReplicaSizes {
  replicas: number;
  minReplicas: number;
  maxReplicas: number;
}

function checkReplicas(sizes: ReplicaSizes) {
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
