import { UrlReaderService } from '@backstage/backend-plugin-api';
import path from 'node:path';
import { PlatformCore } from '../subsystems/core';
import { Subsystem } from '../subsystems/types';
import { BatchConnections } from './BatchConnections';
import { BatchRunner, ChunkAttempt } from './BatchRunner';
import { ExecutionInputs } from './ExecutionInputs';
import { ExecutionService } from './ExecutionService';
import { Uploads } from './Uploads';
import { executionRoutes, uploadRoutes } from './routes';

/** Batch: uploads, executions, their runner and schedules. */
export interface BatchSubsystem extends Subsystem {
  executions: ExecutionService;
  /** Checks inputs and outputs (also those of scheduled deployments). */
  inputs: ExecutionInputs;
  /** Tells `listener` how every chunk attempt ended (monitoring). */
  onChunkAttempt(listener: (attempt: ChunkAttempt) => void): void;
  /** Tells `listener` each line an execution's workers write (logs). */
  onWorkerLog(listener: (executionId: string, line: string) => void): void;
}

export function createBatchSubsystem(
  core: PlatformCore,
  deps: { urlReader: UrlReaderService },
): BatchSubsystem {
  const { config, platformConfig, logger, stores, sandbox } = core;
  const connections = new BatchConnections(
    config.getOptionalConfig('mlPlatform.batch.connections'),
  );
  const uploads = new Uploads(
    path.join(platformConfig.dataDir, 'uploads'),
    platformConfig.batch.maxUploadBytes,
    platformConfig.batch.uploadQuotaBytes,
  );
  const inputs = new ExecutionInputs({
    uploads,
    connections,
    allowedInputRoots: platformConfig.batch.allowedInputRoots,
    allowedUrlHosts: platformConfig.batch.allowedUrlHosts,
  });
  const runner = new BatchRunner({
    stores,
    runtime: core.runtime,
    packages: core.packages,
    artifactStore: core.artifactStore,
    uploads,
    connections,
    inputs,
    workersCanRead: file => sandbox.canRead(file),
    urlReader: deps.urlReader,
    logger,
    workDir: path.join(sandbox.workDir, 'executions'),
    heartbeatMs: platformConfig.batch.heartbeatMs,
    staleAfterMs: platformConfig.batch.staleAfterMs,
    retryBackoffMs: platformConfig.batch.retryBackoffMs,
  });
  const executions = new ExecutionService({
    stores,
    models: core.models,
    access: core.access,
    changes: core.changes,
    quotas: core.quotas,
    packages: core.packages,
    runner,
    uploads,
    inputs,
    artifactStore: core.artifactStore,
    logger,
  });
  return {
    name: 'batch',
    executions,
    inputs,
    onChunkAttempt: listener => runner.onChunkAttempt(listener),
    onWorkerLog: listener => runner.onWorkerLog(listener),
    streamRoutes: (router, ctx) => uploadRoutes(router, ctx, { executions }),
    routes: (api, ctx) => executionRoutes(api, ctx, { executions }),
    tasks: [
      {
        id: 'ml-platform-batch-schedules',
        frequency: { milliseconds: platformConfig.batch.scheduleCheckMs },
        timeout: { minutes: 5 },
        fn: async () => {
          await executions.runSchedules();
        },
      },
      {
        id: 'ml-platform-upload-retention',
        frequency: { hours: 1 },
        timeout: { minutes: 10 },
        initialDelay: { seconds: 30 },
        fn: async () => {
          await executions.deleteExpiredUploads(
            platformConfig.batch.uploadRetentionMs,
          );
        },
      },
    ],
    onStartup: [() => runner.start()],
    onShutdown: [() => runner.stop(), () => connections.close()],
  };
}
