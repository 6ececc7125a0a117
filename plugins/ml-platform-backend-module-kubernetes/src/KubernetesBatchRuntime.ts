import { LoggerService } from '@backstage/backend-plugin-api';
import {
  ArtifactLinks,
  ArtifactStore,
  BatchChunkSpec,
  BatchExecutionSpec,
  BatchFailureKind,
  BatchRunOptions,
  BatchRuntime,
} from '@internal/plugin-ml-platform-node';
import {
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  V1Job,
  V1Pod,
  makeInformer,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubernetesRuntimeConfig } from './config';
import { LABELS, batchJob, jobName, tokenSecret } from './manifests';

const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
const KINDS: BatchFailureKind[] = [
  'bad_input',
  'model_error',
  'io_error',
  'worker_crashed',
];

/** What a batch pod wrote to its termination message. */
interface PodOutcome {
  ok?: boolean;
  rows?: number;
  seconds?: number;
  kind?: string;
  error?: string;
  output?: { uri: string; digest: string };
}

function outcomeOf(pod: V1Pod): {
  outcome: PodOutcome;
  exitCode?: number;
} {
  const statuses = [
    ...(pod.status?.containerStatuses ?? []),
    ...(pod.status?.initContainerStatuses ?? []),
  ];
  const terminated = statuses
    .map(s => s.state?.terminated)
    .find(t => t && (t.exitCode !== 0 || t.message));
  try {
    return {
      outcome: JSON.parse(terminated?.message ?? '{}'),
      exitCode: terminated?.exitCode,
    };
  } catch {
    return {
      outcome: { error: terminated?.message ?? terminated?.reason },
      exitCode: terminated?.exitCode,
    };
  }
}

/**
 * Batch executions as Indexed Jobs: the planned chunks go to the artifact
 * store, a plan lists them (input and output URLs with tokens scoped to
 * each), and a Job with one index per chunk runs them (`completions` =
 * chunks, `parallelism` from the execution, `backoffLimitPerIndex` for
 * retries, bad input not retried). Each pod reads chunk
 * `JOB_COMPLETION_INDEX` and writes its predictions through the platform to
 * the artifact store; the runtime follows the pods with an informer, fetches
 * each chunk's predictions and reports every attempt. A resumed execution
 * replaces the Job of its previous run with one for the chunks left.
 */
export class KubernetesBatchRuntime implements BatchRuntime {
  private readonly batchApi: BatchV1Api;
  private readonly core: CoreV1Api;
  private readonly stops = new Set<() => Promise<void>>();

  constructor(
    private readonly options: {
      kubeConfig: KubeConfig;
      config: KubernetesRuntimeConfig;
      logger: LoggerService;
      artifactStore: ArtifactStore;
      artifactLinks: ArtifactLinks;
    },
  ) {
    this.batchApi = options.kubeConfig.makeApiClient(BatchV1Api);
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
  }

  async run(
    spec: BatchExecutionSpec,
    chunks: AsyncIterable<BatchChunkSpec>,
    options: BatchRunOptions,
  ): Promise<{ ok: boolean }> {
    const { config, artifactLinks, artifactStore } = this.options;
    const ttlMs = config.batchTokenTtlMs;
    const work = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-job-'));
    try {
      // The whole plan first: a Job's completions are fixed.
      const planned: BatchChunkSpec[] = [];
      const entries: unknown[] = [];
      for await (const chunk of chunks) {
        if (options.signal.aborted) return { ok: false };
        const input = await this.storeInput(spec, chunk, work);
        const download = await artifactLinks.download(input.stored, { ttlMs });
        const upload = await artifactLinks.upload(
          `executions/${spec.executionId}/results/chunk-${chunk.seq}.jsonl`,
          { ttlMs },
        );
        planned.push(chunk);
        entries.push({
          seq: chunk.seq,
          input: {
            url: download.url,
            token: download.token,
            digest: input.stored.digest,
            format: chunk.input.format,
            range: input.range,
            idColumn: chunk.input.idColumn,
          },
          output: {
            url: upload.url,
            token: upload.token,
            columns: chunk.output.columns ?? false,
          },
        });
      }
      if (planned.length === 0) return { ok: true };
      const attempt = randomBytes(3).toString('hex');
      const planFile = path.join(work, 'plan.json');
      await fs.promises.writeFile(
        planFile,
        JSON.stringify({ executionId: spec.executionId, chunks: entries }),
      );
      const plan = await artifactStore.put(
        `executions/${spec.executionId}/plan-${attempt}.json`,
        planFile,
        { move: true },
      );
      const planLink = await artifactLinks.download(plan, { ttlMs });
      const buildLink = await artifactLinks.download(
        { uri: spec.build.artifactUri, digest: spec.build.artifactDigest },
        { ttlMs },
      );

      // A previous run's Job (a resumed execution) makes way for this one.
      await this.cancel(spec.executionId);
      const name = jobName(spec.modelName, spec.executionId, attempt);
      const manifests = batchJob({
        config,
        spec,
        name,
        completions: planned.length,
        artifactUrl: buildLink.url,
        planUrl: planLink.url,
      });
      const namespace = config.namespace;
      await this.core.createNamespacedSecret({
        namespace,
        body: tokenSecret({
          name: manifests.secretName,
          namespace,
          labels: manifests.labels,
          tokens: { planToken: planLink, artifactToken: buildLink },
        }),
      });
      const job = await this.batchApi.createNamespacedJob({
        namespace,
        body: manifests.job,
      });
      // The Secret goes with its Job (garbage collection).
      await this.core.patchNamespacedSecret(
        {
          name: manifests.secretName,
          namespace,
          body: {
            metadata: {
              ownerReferences: [
                {
                  apiVersion: 'batch/v1',
                  kind: 'Job',
                  name,
                  uid: job.metadata!.uid!,
                },
              ],
            },
          },
        },
        MERGE_PATCH,
      );
      this.options.logger.info(
        `Execution ${spec.executionId} runs as Job ${name} (${planned.length} indexes)`,
      );
      return await this.follow(spec, name, planned, options);
    } finally {
      await fs.promises.rm(work, { recursive: true, force: true });
    }
  }

  /** Deletes the execution's Jobs and, with them, their pods (foreground). */
  async cancel(executionId: string): Promise<void> {
    const namespace = this.options.config.namespace;
    const jobs = await this.batchApi.listNamespacedJob({
      namespace,
      labelSelector: `${LABELS.execution}=${executionId}`,
    });
    for (const job of jobs.items) {
      try {
        await this.batchApi.deleteNamespacedJob({
          name: job.metadata!.name!,
          namespace,
          propagationPolicy: 'Foreground',
        });
      } catch (error) {
        if ((error as { code?: number }).code !== 404) throw error;
      }
    }
  }

  /** Stops following Jobs (backend shutdown); the Jobs go on. */
  async shutdown(): Promise<void> {
    await Promise.all([...this.stops].map(stop => stop()));
  }

  /** The chunk's rows as a file in the artifact store. */
  private async storeInput(
    spec: BatchExecutionSpec,
    chunk: BatchChunkSpec,
    work: string,
  ) {
    const file = fileURLToPath(chunk.input.uri);
    const key = `executions/${spec.executionId}/chunks/chunk-${chunk.seq}.${chunk.input.format}`;
    const range = chunk.input.range;
    if (!range) {
      return { stored: await this.options.artifactStore.put(key, file) };
    }
    // Only the chunk's bytes travel; the pod reads them as the whole range.
    const part = path.join(work, `chunk-${chunk.seq}`);
    const handle = await fs.promises.open(file, 'r');
    try {
      const buffer = Buffer.alloc(range.length);
      await handle.read(buffer, 0, range.length, range.offset);
      await fs.promises.writeFile(part, buffer);
    } finally {
      await handle.close();
    }
    return {
      stored: await this.options.artifactStore.put(key, part, { move: true }),
      range: {
        offset: 0,
        length: range.length,
        header: range.header,
        first_row_id: range.firstRowId,
        first_line: range.firstLine,
      },
    };
  }

  /** Reports the Job's pods as chunk attempts until the Job ends. */
  private follow(
    spec: BatchExecutionSpec,
    name: string,
    planned: BatchChunkSpec[],
    { onEvent, signal }: BatchRunOptions,
  ): Promise<{ ok: boolean }> {
    const { kubeConfig, config } = this.options;
    const namespace = config.namespace;
    const selector = `batch.kubernetes.io/job-name=${name}`;
    const pods = makeInformer<V1Pod>(
      kubeConfig,
      `/api/v1/namespaces/${namespace}/pods`,
      () => this.core.listNamespacedPod({ namespace, labelSelector: selector }),
      selector,
    );
    const jobs = makeInformer<V1Job>(
      kubeConfig,
      `/apis/batch/v1/namespaces/${namespace}/jobs`,
      () =>
        this.batchApi.listNamespacedJob({
          namespace,
          labelSelector: `${LABELS.execution}=${spec.executionId}`,
        }),
      `${LABELS.execution}=${spec.executionId}`,
    );
    const seen = new Map<string, 'started' | 'done'>();
    const failures = new Map<number, number>();
    let chain = Promise.resolve();

    return new Promise<{ ok: boolean }>((resolve, reject) => {
      let settled = false;
      const stop = async () => {
        this.stops.delete(stop);
        await Promise.all([pods.stop(), jobs.stop()]);
      };
      this.stops.add(stop);
      const finish = (result: { ok: boolean } | Error) => {
        if (settled) return;
        settled = true;
        void stop().finally(() =>
          result instanceof Error ? reject(result) : resolve(result),
        );
      };
      const enqueue = (work: () => Promise<void>) => {
        chain = chain.then(async () => {
          if (settled) return;
          try {
            await work();
          } catch (error) {
            await this.cancel(spec.executionId).catch(() => {});
            finish(error as Error);
          }
        });
      };
      const handlePod = async (pod: V1Pod) => {
        const podName = pod.metadata!.name!;
        const index = Number(pod.metadata?.annotations?.[INDEX_ANNOTATION]);
        const chunk = planned[index];
        if (!chunk || seen.get(podName) === 'done') return;
        const attempt = chunk.attempts + (failures.get(index) ?? 0) + 1;
        if (!seen.has(podName)) {
          seen.set(podName, 'started');
          await onEvent({ type: 'started', seq: chunk.seq, attempt });
        }
        const phase = pod.status?.phase;
        if (phase !== 'Succeeded' && phase !== 'Failed') return;
        seen.set(podName, 'done');
        const { outcome, exitCode } = outcomeOf(pod);
        if (phase === 'Succeeded' && outcome.output) {
          await this.options.artifactStore.download(
            outcome.output.uri,
            fileURLToPath(chunk.output.uri),
            outcome.output.digest,
          );
          await onEvent({
            type: 'succeeded',
            seq: chunk.seq,
            attempt,
            rows: outcome.rows ?? 0,
            seconds: outcome.seconds ?? 0,
          });
          return;
        }
        failures.set(index, (failures.get(index) ?? 0) + 1);
        const kind =
          KINDS.find(k => k === outcome.kind) ??
          (exitCode === 2 ? 'bad_input' : 'worker_crashed');
        await onEvent({
          type: 'failed',
          seq: chunk.seq,
          attempt,
          kind,
          error:
            outcome.error ??
            `the pod ${podName} failed with exit code ${exitCode}`,
          willRetry:
            kind !== 'bad_input' &&
            (failures.get(index) ?? 0) <= spec.maxRetries,
        });
      };
      const onPod = (pod: V1Pod) => enqueue(() => handlePod(pod));
      const onJob = (job: V1Job) =>
        enqueue(async () => {
          if (job.metadata?.name !== name) return;
          const done = (job.status?.conditions ?? []).find(
            c =>
              (c.type === 'Complete' || c.type === 'Failed') &&
              c.status === 'True',
          );
          if (!done) return;
          // The pods' last changes may be behind the Job's on their watch.
          const final = await this.core.listNamespacedPod({
            namespace,
            labelSelector: selector,
          });
          for (const pod of final.items) await handlePod(pod);
          finish({ ok: done.type === 'Complete' });
        });
      pods.on('add', onPod);
      pods.on('update', onPod);
      jobs.on('add', onJob);
      jobs.on('update', onJob);
      jobs.on('delete', job =>
        enqueue(async () => {
          if (job.metadata?.name === name) finish({ ok: false });
        }),
      );
      const restartOnError =
        (informer: { start(): Promise<void> }) => (error: unknown) => {
          if (settled) return;
          this.options.logger.warn(
            `Watching Job ${name} failed, restarting: ${error}`,
          );
          setTimeout(() => void informer.start().catch(() => {}), 1000);
        };
      pods.on('error', restartOnError(pods));
      jobs.on('error', restartOnError(jobs));
      signal.addEventListener('abort', () => finish({ ok: false }), {
        once: true,
      });
      Promise.all([pods.start(), jobs.start()]).catch(error => finish(error));
    });
  }
}
