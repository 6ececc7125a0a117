import { ResponseError } from '@backstage/errors';
import {
  BatchExecution,
  BatchSettings,
  BuildLogPage,
  DeploymentLogPage,
  DeploymentType,
  ExecutionChunk,
  ExecutionInput,
  ExecutionOutput,
  ListResponse,
  ModelBuild,
  ModelActivity,
  ModelDeployment,
  ModelPermissions,
  ModelSummary,
  UploadedInput,
} from '../types';
import { ModelMetrics, ModelTraffic } from '../metrics';
import {
  DeadLetter,
  ModelLogPage,
  ModelLogQuery,
  ModelSubscription,
  PredictionEventPage,
  PredictionEventQuery,
  SubscriptionBody,
} from '../events';

/** A model, addressed by its catalog entity. @public */
export interface ModelRef {
  namespace: string;
  name: string;
}

/** What a prediction answered, with how long it took. @public */
export interface PredictionResult {
  status: number;
  body: unknown;
  latencyMs: number;
}

/**
 * Bytes to upload: a `Blob` (a browser's `File`), or a stream, e.g. a file
 * read in Node with `Readable.toWeb(fs.createReadStream(path))`, sent as it
 * is read rather than held in memory.
 *
 * @public
 */
export type UploadBody = Blob | ReadableStream<Uint8Array>;

/** An execution's result file as it arrives from the server. @public */
export interface ExecutionResultStream {
  body: ReadableStream<Uint8Array>;
  /** `text/csv`, `application/x-ndjson` or `application/vnd.apache.parquet`. */
  contentType?: string;
  /** The file name the server suggests. */
  filename?: string;
  /** Bytes, when the server sent a length. */
  size?: number;
}

/** @public */
export interface CreateDeploymentBody {
  buildId: string;
  type: DeploymentType;
  replicas?: number;
  minReplicas?: number;
  maxReplicas?: number;
  batch?: Partial<BatchSettings>;
}

/** Which metrics `getModelMetrics` reads. @public */
export interface ModelMetricsQuery {
  /** Start of the range; default an hour before `to`. */
  from?: Date;
  /** End of the range; default now. */
  to?: Date;
  /** Seconds per point; default about 60 points over the range. */
  stepSeconds?: number;
  deploymentId?: string;
  version?: number;
}

/** @public */
export interface CreateExecutionBody {
  deploymentId?: string;
  buildId?: string;
  input: ExecutionInput;
  output: ExecutionOutput;
  chunkSize?: number;
  parallelism?: number;
  maxRetries?: number;
}

/** The ML platform HTTP API as called by the UI, CLI and other backends. @public */
export interface MlPlatformApi {
  listModels(): Promise<ModelSummary[]>;
  getModel(ref: ModelRef): Promise<ModelSummary>;
  registerModel(
    ref: ModelRef,
    body?: {
      gitUrl?: string;
      gitPath?: string;
      defaultBranch?: string;
      manifestPath?: string;
    },
  ): Promise<ModelSummary>;
  getModelPermissions(ref: ModelRef): Promise<ModelPermissions>;
  /** The model's history of changes and refused attempts, newest first. */
  listActivity(
    ref: ModelRef,
    page?: { limit?: number; offset?: number },
  ): Promise<{ items: ModelActivity[]; totalCount: number }>;

  listBuilds(
    ref: ModelRef,
    page?: { limit?: number; offset?: number },
  ): Promise<{ items: ModelBuild[]; totalCount: number }>;
  getBuild(id: string): Promise<ModelBuild>;
  createBuild(
    ref: ModelRef,
    body?: { branch?: string; commit?: string },
  ): Promise<ModelBuild>;
  cancelBuild(id: string): Promise<ModelBuild>;
  getBuildLog(id: string, after?: number): Promise<BuildLogPage>;
  /**
   * The build's log line by line as it is written: what is there, then new
   * lines until the build ends (or `signal` aborts).
   */
  followBuildLog(
    id: string,
    options?: { signal?: AbortSignal },
  ): AsyncIterable<string>;

  listDeployments(ref: ModelRef): Promise<ModelDeployment[]>;
  getDeployment(id: string): Promise<ModelDeployment>;
  createDeployment(
    ref: ModelRef,
    body: CreateDeploymentBody,
  ): Promise<ModelDeployment>;
  updateDeployment(
    id: string,
    body: {
      buildId?: string;
      replicas?: number;
      minReplicas?: number;
      maxReplicas?: number;
    },
  ): Promise<ModelDeployment>;
  deleteDeployment(id: string): Promise<void>;
  getDeploymentLogs(
    id: string,
    options?: { tail?: number; after?: number },
  ): Promise<DeploymentLogPage>;
  /**
   * The last `tail` lines of the replicas' output and runtime events as
   * `<time> [<replica>] <line>`, then new ones as they come, until `signal`
   * aborts or the server ends the stream.
   */
  followDeploymentLogs(
    id: string,
    options?: { tail?: number; signal?: AbortSignal },
  ): AsyncIterable<string>;

  /** MLflow records body through the gateway; never throws on model errors. */
  predict(ref: ModelRef, body: unknown): Promise<PredictionResult>;
  /** Open Inference Protocol (KServe V2) request; never throws on model errors. */
  infer(name: string, body: unknown): Promise<PredictionResult>;

  /** Uploads an input file; a stream is sent as it is read. */
  uploadInput(
    ref: ModelRef,
    file: UploadBody,
    filename: string,
    options?: { signal?: AbortSignal },
  ): Promise<UploadedInput>;
  listExecutions(ref: ModelRef): Promise<BatchExecution[]>;
  getExecution(id: string): Promise<BatchExecution>;
  createExecution(
    ref: ModelRef,
    body: CreateExecutionBody,
  ): Promise<BatchExecution>;
  cancelExecution(id: string): Promise<BatchExecution>;
  listExecutionChunks(
    id: string,
    status?: ExecutionChunk['status'],
  ): Promise<ExecutionChunk[]>;
  /** The assembled result file of a finished execution with a file output. */
  downloadExecutionResult(id: string): Promise<Blob>;

  /** The same file as a stream, for results too big to hold in memory. */
  readExecutionResult(
    id: string,
    options?: { signal?: AbortSignal },
  ): Promise<ExecutionResultStream>;

  /** Time series of the model's health (embedded store or Prometheus). */
  getModelMetrics(
    ref: ModelRef,
    query?: ModelMetricsQuery,
  ): Promise<ModelMetrics>;
  /** Every model's calls over the last `window` (e.g. `1h`, the default). */
  listModelTraffic(window?: string): Promise<ModelTraffic[]>;

  /** A page of the model's prediction events, newest first. */
  listPredictionEvents(
    ref: ModelRef,
    query?: PredictionEventQuery,
  ): Promise<PredictionEventPage>;
  /** Every matching event as JSON lines or CSV. */
  exportPredictionEvents(
    ref: ModelRef,
    format: 'jsonl' | 'csv',
    query?: Omit<PredictionEventQuery, 'limit' | 'cursor'>,
  ): Promise<Blob>;
  listSubscriptions(ref: ModelRef): Promise<ModelSubscription[]>;
  createSubscription(
    ref: ModelRef,
    body: SubscriptionBody,
  ): Promise<ModelSubscription>;
  updateSubscription(
    id: string,
    body: Partial<SubscriptionBody>,
  ): Promise<ModelSubscription>;
  deleteSubscription(id: string): Promise<void>;
  listDeadLetters(id: string): Promise<DeadLetter[]>;
  retryDeadLetter(id: string, letterId: string): Promise<void>;
  /** Build, deployment and execution log lines, oldest first. */
  searchLogs(ref: ModelRef, query?: ModelLogQuery): Promise<ModelLogPage>;
}

/** Query string of the set values, numbers and strings as they are. */
function queryString(query: object): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `?${qs}` : '';
}

const isStream = (body: unknown): body is ReadableStream<Uint8Array> =>
  typeof ReadableStream !== 'undefined' && body instanceof ReadableStream;

function bodyOf(response: Response): ReadableStream<Uint8Array> {
  return response.body ?? new Blob([]).stream();
}

const model = (ref: ModelRef) =>
  `/models/${encodeURIComponent(ref.namespace)}/${encodeURIComponent(
    ref.name,
  )}`;

/** `?limit=&offset=` of a paged list, or nothing. */
function pageQuery(page: { limit?: number; offset?: number }) {
  const query = new URLSearchParams();
  if (page.limit !== undefined) query.set('limit', String(page.limit));
  if (page.offset !== undefined) query.set('offset', String(page.offset));
  const qs = query.toString();
  return qs ? `?${qs}` : '';
}

/**
 * Works in the browser and in Node: the caller supplies how to find the
 * backend and how to fetch (with its own credentials).
 *
 * @public
 */
export class MlPlatformClient implements MlPlatformApi {
  private readonly discoveryApi: {
    getBaseUrl(pluginId: string): Promise<string>;
  };
  private readonly fetchApi: { fetch: typeof fetch };

  constructor(options: {
    discoveryApi: { getBaseUrl(pluginId: string): Promise<string> };
    fetchApi?: { fetch: typeof fetch };
  }) {
    this.discoveryApi = options.discoveryApi;
    this.fetchApi = options.fetchApi ?? { fetch: (...a) => fetch(...a) };
  }

  async listModels(): Promise<ModelSummary[]> {
    return (await this.json<ListResponse<ModelSummary>>('GET', '/models'))
      .items;
  }

  getModel(ref: ModelRef) {
    return this.json<ModelSummary>('GET', model(ref));
  }

  registerModel(ref: ModelRef, body: object = {}) {
    return this.json<ModelSummary>('POST', `${model(ref)}/register`, body);
  }

  getModelPermissions(ref: ModelRef) {
    return this.json<ModelPermissions>('GET', `${model(ref)}/permissions`);
  }

  listActivity(ref: ModelRef, page: { limit?: number; offset?: number } = {}) {
    return this.json<{ items: ModelActivity[]; totalCount: number }>(
      'GET',
      `${model(ref)}/activity${pageQuery(page)}`,
    );
  }

  listBuilds(ref: ModelRef, page: { limit?: number; offset?: number } = {}) {
    return this.json<{ items: ModelBuild[]; totalCount: number }>(
      'GET',
      `${model(ref)}/builds${pageQuery(page)}`,
    );
  }

  getBuild(id: string) {
    return this.json<ModelBuild>('GET', `/builds/${encodeURIComponent(id)}`);
  }

  createBuild(ref: ModelRef, body: { branch?: string; commit?: string } = {}) {
    return this.json<ModelBuild>('POST', `${model(ref)}/builds`, body);
  }

  cancelBuild(id: string) {
    return this.json<ModelBuild>(
      'POST',
      `/builds/${encodeURIComponent(id)}/cancel`,
    );
  }

  getBuildLog(id: string, after = 0) {
    return this.json<BuildLogPage>(
      'GET',
      `/builds/${encodeURIComponent(id)}/logs?format=json&after=${after}`,
    );
  }

  followBuildLog(
    id: string,
    options: { signal?: AbortSignal } = {},
  ): AsyncIterable<string> {
    return this.lines(
      `/builds/${encodeURIComponent(id)}/logs?follow=true`,
      options.signal,
    );
  }

  async listDeployments(ref: ModelRef) {
    return (
      await this.json<ListResponse<ModelDeployment>>(
        'GET',
        `${model(ref)}/deployments`,
      )
    ).items;
  }

  getDeployment(id: string) {
    return this.json<ModelDeployment>(
      'GET',
      `/deployments/${encodeURIComponent(id)}`,
    );
  }

  createDeployment(ref: ModelRef, body: CreateDeploymentBody) {
    return this.json<ModelDeployment>(
      'POST',
      `${model(ref)}/deployments`,
      body,
    );
  }

  updateDeployment(id: string, body: object) {
    return this.json<ModelDeployment>(
      'PATCH',
      `/deployments/${encodeURIComponent(id)}`,
      body,
    );
  }

  async deleteDeployment(id: string): Promise<void> {
    await this.request('DELETE', `/deployments/${encodeURIComponent(id)}`);
  }

  getDeploymentLogs(
    id: string,
    options: { tail?: number; after?: number } = {},
  ) {
    const query = new URLSearchParams({ format: 'json' });
    if (options.tail !== undefined) query.set('tail', String(options.tail));
    if (options.after !== undefined) query.set('after', String(options.after));
    return this.json<DeploymentLogPage>(
      'GET',
      `/deployments/${encodeURIComponent(id)}/logs?${query}`,
    );
  }

  followDeploymentLogs(
    id: string,
    options: { tail?: number; signal?: AbortSignal } = {},
  ): AsyncIterable<string> {
    const query = new URLSearchParams({ follow: 'true' });
    if (options.tail !== undefined) query.set('tail', String(options.tail));
    return this.lines(
      `/deployments/${encodeURIComponent(id)}/logs?${query}`,
      options.signal,
    );
  }

  predict(ref: ModelRef, body: unknown): Promise<PredictionResult> {
    return this.invoke(`${model(ref)}/predict`, body);
  }

  infer(name: string, body: unknown): Promise<PredictionResult> {
    return this.invoke(`/v2/models/${encodeURIComponent(name)}/infer`, body);
  }

  private async invoke(path: string, body: unknown): Promise<PredictionResult> {
    const started = Date.now();
    const response = await this.request('POST', path, body, {
      allowErrors: true,
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: keep the text.
    }
    return {
      status: response.status,
      body: parsed,
      latencyMs: Date.now() - started,
    };
  }

  async uploadInput(
    ref: ModelRef,
    file: UploadBody,
    filename: string,
    options: { signal?: AbortSignal } = {},
  ) {
    const response = await this.request(
      'POST',
      `${model(ref)}/uploads?filename=${encodeURIComponent(filename)}`,
      file,
      { signal: options.signal },
    );
    return (await response.json()) as UploadedInput;
  }

  async listExecutions(ref: ModelRef) {
    return (
      await this.json<ListResponse<BatchExecution>>(
        'GET',
        `${model(ref)}/executions`,
      )
    ).items;
  }

  getExecution(id: string) {
    return this.json<BatchExecution>(
      'GET',
      `/executions/${encodeURIComponent(id)}`,
    );
  }

  createExecution(ref: ModelRef, body: CreateExecutionBody) {
    return this.json<BatchExecution>('POST', `${model(ref)}/executions`, body);
  }

  cancelExecution(id: string) {
    return this.json<BatchExecution>(
      'POST',
      `/executions/${encodeURIComponent(id)}/cancel`,
    );
  }

  async listExecutionChunks(id: string, status?: ExecutionChunk['status']) {
    const qs = status ? `?status=${status}` : '';
    return (
      await this.json<ListResponse<ExecutionChunk>>(
        'GET',
        `/executions/${encodeURIComponent(id)}/chunks${qs}`,
      )
    ).items;
  }

  async downloadExecutionResult(id: string): Promise<Blob> {
    const response = await this.request(
      'GET',
      `/executions/${encodeURIComponent(id)}/result`,
    );
    return response.blob();
  }

  getModelMetrics(ref: ModelRef, query: ModelMetricsQuery = {}) {
    const params = new URLSearchParams();
    const seconds = (d: Date) => String(d.getTime() / 1000);
    if (query.from) params.set('from', seconds(query.from));
    if (query.to) params.set('to', seconds(query.to));
    if (query.stepSeconds !== undefined) {
      params.set('step', String(query.stepSeconds));
    }
    if (query.deploymentId) params.set('deployment', query.deploymentId);
    if (query.version !== undefined) {
      params.set('version', String(query.version));
    }
    const qs = params.toString();
    return this.json<ModelMetrics>(
      'GET',
      `${model(ref)}/metrics${qs ? `?${qs}` : ''}`,
    );
  }

  async listModelTraffic(window?: string) {
    const qs = window ? `?window=${encodeURIComponent(window)}` : '';
    return (
      await this.json<ListResponse<ModelTraffic>>('GET', `/models/traffic${qs}`)
    ).items;
  }

  listPredictionEvents(ref: ModelRef, query: PredictionEventQuery = {}) {
    return this.json<PredictionEventPage>(
      'GET',
      `${model(ref)}/events${queryString(query)}`,
    );
  }

  async exportPredictionEvents(
    ref: ModelRef,
    format: 'jsonl' | 'csv',
    query: Omit<PredictionEventQuery, 'limit' | 'cursor'> = {},
  ): Promise<Blob> {
    const response = await this.request(
      'GET',
      `${model(ref)}/events/export${queryString({ ...query, format })}`,
    );
    return response.blob();
  }

  async listSubscriptions(ref: ModelRef) {
    return (
      await this.json<ListResponse<ModelSubscription>>(
        'GET',
        `${model(ref)}/subscriptions`,
      )
    ).items;
  }

  createSubscription(ref: ModelRef, body: SubscriptionBody) {
    return this.json<ModelSubscription>(
      'POST',
      `${model(ref)}/subscriptions`,
      body,
    );
  }

  updateSubscription(id: string, body: Partial<SubscriptionBody>) {
    return this.json<ModelSubscription>(
      'PATCH',
      `/subscriptions/${encodeURIComponent(id)}`,
      body,
    );
  }

  async deleteSubscription(id: string): Promise<void> {
    await this.request('DELETE', `/subscriptions/${encodeURIComponent(id)}`);
  }

  async listDeadLetters(id: string) {
    return (
      await this.json<ListResponse<DeadLetter>>(
        'GET',
        `/subscriptions/${encodeURIComponent(id)}/deadletters`,
      )
    ).items;
  }

  async retryDeadLetter(id: string, letterId: string): Promise<void> {
    await this.request(
      'POST',
      `/subscriptions/${encodeURIComponent(
        id,
      )}/deadletters/${encodeURIComponent(letterId)}/retry`,
    );
  }

  searchLogs(ref: ModelRef, query: ModelLogQuery = {}) {
    return this.json<ModelLogPage>(
      'GET',
      `${model(ref)}/logs${queryString(query)}`,
    );
  }

  async readExecutionResult(
    id: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<ExecutionResultStream> {
    const response = await this.request(
      'GET',
      `/executions/${encodeURIComponent(id)}/result`,
      undefined,
      { signal: options.signal },
    );
    const length = response.headers.get('Content-Length');
    const disposition = response.headers.get('Content-Disposition') ?? '';
    return {
      body: bodyOf(response),
      contentType: response.headers.get('Content-Type') ?? undefined,
      filename: /filename="([^"]+)"/.exec(disposition)?.[1],
      size: length ? Number(length) : undefined,
    };
  }

  /** A streamed text response, line by line. */
  private async *lines(
    path: string,
    signal?: AbortSignal,
  ): AsyncGenerator<string> {
    const response = await this.request('GET', path, undefined, {
      signal,
      // A compressing proxy or middleware holds lines back until its buffer
      // fills; ask for the bytes as written. (Browsers ignore this header.)
      headers: { 'Accept-Encoding': 'identity' },
    });
    const reader = bodyOf(response).getReader();
    const decoder = new TextDecoder();
    let pending = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        pending += decoder.decode(value, { stream: true });
        const lines = pending.split('\n');
        pending = lines.pop()!;
        yield* lines;
      }
      pending += decoder.decode();
      if (pending) yield pending;
    } finally {
      // The consumer stopped early: close the connection.
      await reader.cancel().catch(() => {});
    }
  }

  private async json<T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<T> {
    const response = await this.request(method, path, body);
    return (await response.json()) as T;
  }

  private async request(
    method: string,
    path: string,
    body?: unknown,
    options: {
      allowErrors?: boolean;
      signal?: AbortSignal;
      headers?: Record<string, string>;
    } = {},
  ): Promise<Response> {
    const baseUrl = await this.discoveryApi.getBaseUrl('ml-platform');
    const headers: Record<string, string> = { ...options.headers };
    const init: RequestInit & { duplex?: 'half' } = {
      method,
      headers,
      signal: options.signal,
    };
    if (isStream(body)) {
      // Sent while it is read; fetch needs `duplex` for a streamed body.
      headers['Content-Type'] = 'application/octet-stream';
      init.body = body;
      init.duplex = 'half';
    } else if (typeof Blob !== 'undefined' && body instanceof Blob) {
      headers['Content-Type'] = 'application/octet-stream';
      init.body = body;
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await this.fetchApi.fetch(`${baseUrl}${path}`, init);
    if (!response.ok && !options.allowErrors) {
      const error = await ResponseError.fromResponse(response);
      // The backend's message names the field or the reason: keep it visible.
      const detail = error.body?.error?.message;
      if (detail && !error.message.includes(detail)) {
        error.message = `${error.message}: ${detail}`;
      }
      throw error;
    }
    return response;
  }
}
