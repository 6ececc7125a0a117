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
  ModelDeployment,
  ModelPermissions,
  ModelSummary,
  UploadedInput,
} from '../types';
import { ModelMetrics, ModelTraffic } from '../metrics';

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

  /** MLflow records body through the gateway; never throws on model errors. */
  predict(ref: ModelRef, body: unknown): Promise<PredictionResult>;

  uploadInput(
    ref: ModelRef,
    file: Blob,
    filename: string,
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

  /** Time series of the model's health (embedded store or Prometheus). */
  getModelMetrics(
    ref: ModelRef,
    query?: ModelMetricsQuery,
  ): Promise<ModelMetrics>;
  /** Every model's calls over the last `window` (e.g. `1h`, the default). */
  listModelTraffic(window?: string): Promise<ModelTraffic[]>;
}

const model = (ref: ModelRef) =>
  `/models/${encodeURIComponent(ref.namespace)}/${encodeURIComponent(
    ref.name,
  )}`;

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

  listBuilds(ref: ModelRef, page: { limit?: number; offset?: number } = {}) {
    const query = new URLSearchParams();
    if (page.limit !== undefined) query.set('limit', String(page.limit));
    if (page.offset !== undefined) query.set('offset', String(page.offset));
    const qs = query.toString();
    return this.json<{ items: ModelBuild[]; totalCount: number }>(
      'GET',
      `${model(ref)}/builds${qs ? `?${qs}` : ''}`,
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

  async predict(ref: ModelRef, body: unknown): Promise<PredictionResult> {
    const started = Date.now();
    const response = await this.request('POST', `${model(ref)}/predict`, body, {
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

  async uploadInput(ref: ModelRef, file: Blob, filename: string) {
    const response = await this.request(
      'POST',
      `${model(ref)}/uploads?filename=${encodeURIComponent(filename)}`,
      file,
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
    options: { allowErrors?: boolean } = {},
  ): Promise<Response> {
    const baseUrl = await this.discoveryApi.getBaseUrl('ml-platform');
    const isBinary = typeof Blob !== 'undefined' && body instanceof Blob;
    let init: RequestInit = { method };
    if (body !== undefined) {
      init = {
        method,
        headers: {
          'Content-Type': isBinary
            ? 'application/octet-stream'
            : 'application/json',
        },
        body: isBinary ? (body as Blob) : JSON.stringify(body),
      };
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
