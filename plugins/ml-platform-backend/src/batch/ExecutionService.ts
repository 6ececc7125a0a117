import {
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { InputError, NotFoundError } from '@backstage/errors';
import {
  BatchExecution,
  CreateExecutionBody,
  ExecutionChunk,
  ModelBuild,
  ModelDeployment,
  mlPlatformExecutionCancelPermission,
  mlPlatformExecutionCreatePermission,
} from '@internal/plugin-ml-platform-common';
import { ArtifactStore } from '@internal/plugin-ml-platform-node';
import { CronTime } from 'cron';
import { Readable } from 'node:stream';
import { ModelAccess, principalRef } from '../access/ModelAccess';
import { Caller, ChangeOutcome, ModelChanges } from '../activity/ModelChanges';
import { ExecutionRecord, PlatformStores } from '../database';
import { BuildPackages } from '../deployments/BuildPackages';
import { Quotas } from '../quotas/Quotas';
import { ModelCatalog } from '../services/ModelCatalog';
import { BatchRunner } from './BatchRunner';
import { ExecutionInputs } from './ExecutionInputs';
import { Uploads } from './Uploads';
import { errorMeta } from '../util/logging';

/** An execution as the API shows it: progress, rate and time left. */
export function withProgress(
  e: ExecutionRecord,
  now = Date.now(),
): BatchExecution {
  const started = e.startedAt ? Date.parse(e.startedAt) : undefined;
  const end = e.finishedAt ? Date.parse(e.finishedAt) : now;
  const seconds = started ? (end - started) / 1000 : 0;
  const rowsPerSecond =
    seconds > 0 && e.rowsDone > 0 ? e.rowsDone / seconds : undefined;
  const etaSeconds =
    e.status === 'running' && rowsPerSecond && e.rowsTotal !== undefined
      ? Math.max(0, (e.rowsTotal - e.rowsDone) / rowsPerSecond)
      : undefined;
  return { ...e, rowsPerSecond, etaSeconds };
}

/**
 * Batch executions: validates a request against the model's batch
 * deployment or build, records it, and hands it to the runner; also starts
 * the executions of scheduled batch deployments.
 */
export class ExecutionService {
  constructor(
    private readonly options: {
      stores: Pick<PlatformStores, 'builds' | 'deployments' | 'executions'>;
      models: ModelCatalog;
      access: ModelAccess;
      changes: ModelChanges;
      quotas: Quotas;
      packages: BuildPackages;
      runner: BatchRunner;
      uploads: Uploads;
      inputs: ExecutionInputs;
      artifactStore: ArtifactStore;
      logger: LoggerService;
    },
  ) {}

  async create(
    ref: { namespace: string; name: string },
    body: CreateExecutionBody,
    caller: Caller,
  ): Promise<BatchExecution> {
    return this.options.models.change(
      ref,
      caller,
      {
        action: 'execution.create',
        permission: mlPlatformExecutionCreatePermission,
      },
      (_entity, modelRef) =>
        this.start(modelRef, body, 'api', principalRef(caller.credentials)),
    );
  }

  async list(
    ref: { namespace: string; name: string },
    credentials: BackstageCredentials,
  ) {
    const entity = await this.options.models.getEntity(ref, credentials);
    const items = await this.options.stores.executions.listExecutions({
      modelRef: stringifyEntityRef(entity),
    });
    return items.map(e => withProgress(e));
  }

  async get(
    id: string,
    credentials: BackstageCredentials,
  ): Promise<BatchExecution> {
    return withProgress(await this.visible(id, credentials));
  }

  async chunks(
    id: string,
    status: ExecutionChunk['status'] | undefined,
    credentials: BackstageCredentials,
  ): Promise<ExecutionChunk[]> {
    await this.visible(id, credentials);
    const chunks = await this.options.stores.executions.listChunks(
      id,
      status ? { status: [status] } : undefined,
    );
    return chunks.map(({ executionId: _e, ...c }) => c);
  }

  /** Stops the workers; the execution says how far it got. */
  async cancel(id: string, caller: Caller): Promise<BatchExecution> {
    const execution = await this.visible(id, caller.credentials);
    return this.options.changes.apply(
      caller,
      {
        action: 'execution.cancel',
        permission: mlPlatformExecutionCancelPermission,
        modelRef: execution.modelRef,
        subjectId: id,
      },
      async () => {
        const active =
          execution.status === 'pending' || execution.status === 'running';
        if (active) {
          await this.options.stores.executions.requestExecutionCancel(id);
          this.options.runner.abortLocal(id);
        }
        return {
          result: withProgress(
            (await this.options.stores.executions.getExecution(id))!,
          ),
          message: active
            ? `Cancelled the execution (it was ${execution.status})`
            : `The execution had already ended (${execution.status})`,
        };
      },
    );
  }

  /** The assembled result file of a succeeded execution with a file output. */
  async result(id: string, credentials: BackstageCredentials) {
    const execution = await this.visible(id, credentials);
    if (!execution.resultUri || execution.output.type !== 'file') {
      throw new NotFoundError(
        execution.output.type === 'table'
          ? `Execution ${id} wrote to table ${execution.output.table}, not a file`
          : `Execution ${id} has no result yet (it is ${execution.status})`,
      );
    }
    const { name } = parseEntityRef(execution.modelRef);
    return {
      stream: await this.options.artifactStore.read(execution.resultUri),
      format: execution.output.format,
      filename: `${name}-${id.slice(0, 8)}.${execution.output.format}`,
    };
  }

  /** Stores an execution's input file, if the caller may start executions. */
  async upload(
    ref: { namespace: string; name: string },
    filename: string,
    body: Readable,
    credentials: BackstageCredentials,
  ) {
    const entity = await this.options.models.getEntity(ref, credentials);
    const modelRef = stringifyEntityRef(entity);
    await this.options.access.authorize(
      credentials,
      mlPlatformExecutionCreatePermission,
      modelRef,
    );
    return this.options.uploads.save(modelRef, filename, body);
  }

  /**
   * Deletes uploads older than the retention, except those an unfinished
   * execution or a scheduled batch deployment reads.
   */
  async deleteExpiredUploads(retentionMs: number, now = Date.now()) {
    const { stores } = this.options;
    const keep = new Set<string>();
    const inputs = [
      ...(
        await stores.executions.listExecutions({
          status: ['pending', 'running'],
        })
      ).map(e => e.input),
      ...(await stores.deployments.listDeployments({ type: 'batch' })).map(
        d => d.batch?.input,
      ),
    ];
    for (const input of inputs) {
      if (input?.type === 'upload') keep.add(input.uploadId);
    }
    const deleted = await this.options.uploads.deleteExpired(
      new Date(now - retentionMs),
      keep,
    );
    if (deleted.length) {
      this.options.logger.info('deleted expired uploads', {
        count: deleted.length,
      });
    }
    return deleted;
  }

  /** Starts the executions of batch deployments whose cron time came. */
  async runSchedules(now = new Date()): Promise<BatchExecution[]> {
    const started: BatchExecution[] = [];
    const deployments = await this.options.stores.deployments.listDeployments({
      type: 'batch',
    });
    for (const d of deployments) {
      const settings = d.batch;
      const { input, output } = settings ?? {};
      if (!settings?.schedule || !input || !output) continue;
      const since = new Date(d.lastScheduledAt ?? d.createdAt);
      let due: Date;
      try {
        due = new CronTime(settings.schedule).getNextDateFrom(since).toJSDate();
      } catch (error) {
        this.options.logger.warn('deployment has a bad schedule', {
          deploymentId: d.id,
          model: d.modelRef,
          schedule: settings.schedule,
          ...errorMeta(error),
        });
        continue;
      }
      if (due > now) continue;
      // Recorded first, so a crash right after does not start it twice; of
      // two instances checking at once, only the one that records it starts it.
      if (
        !(await this.options.stores.deployments.claimScheduledRun(
          d.id,
          d.lastScheduledAt,
          now.toISOString(),
        ))
      ) {
        continue;
      }
      try {
        started.push(
          await this.options.changes.record(
            { actor: 'ml-platform:schedule' },
            { action: 'execution.create', modelRef: d.modelRef },
            () =>
              this.start(
                d.modelRef,
                { deploymentId: d.id, input, output },
                'schedule',
                'ml-platform:schedule',
              ),
          ),
        );
      } catch (error) {
        this.options.logger.warn('scheduled execution could not start', {
          deploymentId: d.id,
          model: d.modelRef,
          ...errorMeta(error),
        });
      }
    }
    return started;
  }

  private async start(
    modelRef: string,
    body: CreateExecutionBody,
    trigger: 'api' | 'schedule',
    createdBy?: string,
  ): Promise<ChangeOutcome<BatchExecution>> {
    const { stores } = this.options;
    const { build, deployment } = await this.target(modelRef, body);
    const settings = deployment?.batch;
    const manifest = await this.options.packages.manifestOf(build);
    await this.options.inputs.checkInput(modelRef, body.input);
    this.options.inputs.checkOutput(body.output);
    await this.options.quotas.checkConcurrentExecutions(modelRef);

    const execution = await stores.executions.createExecution({
      modelRef,
      deploymentId: deployment?.id,
      buildId: build.id,
      input: body.input,
      output: body.output,
      chunkSize:
        body.chunkSize ??
        settings?.chunkSize ??
        manifest.spec.batch?.chunkSize ??
        1000,
      parallelism:
        body.parallelism ??
        settings?.parallelism ??
        manifest.spec.batch?.parallelism ??
        2,
      maxRetries:
        body.maxRetries ??
        settings?.maxRetries ??
        manifest.spec.batch?.maxRetries ??
        3,
      trigger,
      createdBy,
    });
    if (
      await stores.executions.claimExecution(
        execution.id,
        this.options.runner.workerId,
      )
    ) {
      this.options.runner.launch(execution);
    }
    return {
      result: withProgress(execution),
      message: `Started an execution of build v${build.version}: ${body.input.type} input, ${body.output.type} output`,
      subjectId: execution.id,
    };
  }

  private async target(
    modelRef: string,
    body: CreateExecutionBody,
  ): Promise<{ build: ModelBuild; deployment?: ModelDeployment }> {
    const { stores } = this.options;
    if (body.deploymentId && body.buildId) {
      throw new InputError('body: give deploymentId or buildId, not both');
    }
    let deployment: ModelDeployment | undefined;
    if (body.deploymentId) {
      deployment = await stores.deployments.getDeployment(body.deploymentId);
      if (
        !deployment ||
        deployment.modelRef !== modelRef ||
        deployment.type !== 'batch'
      ) {
        throw new InputError(
          `body.deploymentId: ${modelRef} has no batch deployment ${body.deploymentId}`,
        );
      }
    } else if (!body.buildId) {
      [deployment] = await stores.deployments.listDeployments({
        modelRef,
        type: 'batch',
      });
      if (!deployment) {
        throw new InputError(
          `body.deploymentId: ${modelRef} has no batch deployment; give deploymentId or buildId`,
        );
      }
    }
    const buildId = deployment?.buildId ?? body.buildId!;
    const build = await stores.builds.getBuild(buildId);
    if (!build || build.modelRef !== modelRef) {
      throw new InputError(`body.buildId: ${modelRef} has no build ${buildId}`);
    }
    if (build.status !== 'succeeded') {
      throw new InputError(
        `body.buildId: build v${build.version} is ${build.status}; only succeeded builds can run`,
      );
    }
    return { build, deployment };
  }

  private async visible(
    id: string,
    credentials: BackstageCredentials,
  ): Promise<ExecutionRecord> {
    const execution = await this.options.stores.executions.getExecution(id);
    if (!execution) throw new NotFoundError(`No execution with id ${id}`);
    await this.options.models.assertVisible(execution.modelRef, credentials);
    return execution;
  }
}
