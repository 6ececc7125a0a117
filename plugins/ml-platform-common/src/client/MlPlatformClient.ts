import { ResponseError } from '@backstage/errors';
import {
  DefaultApiClient,
  TypedResponse,
} from '../schema/openapi/generated/apis';
import {
  AlertHistoryPage,
  AlertRule,
  BatchExecution,
  BuildLogPage,
  CreateDeploymentRequest,
  CreateExecutionRequest,
  DeploymentLogPage,
  GatewayInfo,
  ExecutionChunk,
  ModelActivity,
  ModelAlert,
  ModelAlerts,
  ModelBuild,
  ModelDeployment,
  ModelMetrics,
  ModelPermissions,
  ModelSummary,
  ModelTraffic,
  RegisterModelRequest,
  UpdateDeploymentRequest,
  UploadedInput,
  DeadLetter,
  ModelLogPage,
  ModelSubscription,
  PredictionEventPage,
} from '../schema/openapi/generated/models';
import {
  ModelLogQuery,
  PredictionEventQuery,
  SubscriptionBody,
  SubscriptionUpdate,
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

/** Body of `POST models/{ns}/{name}/deployments`. @public */
export type CreateDeploymentBody = CreateDeploymentRequest;

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

/** Body of `POST models/{ns}/{name}/executions`. @public */
export type CreateExecutionBody = CreateExecutionRequest;

/** The ML platform HTTP API as called by the UI, CLI and other backends. @public */
export interface MlPlatformApi {
  listModels(): Promise<ModelSummary[]>;
  getModel(ref: ModelRef): Promise<ModelSummary>;
  registerModel(
    ref: ModelRef,
    body?: RegisterModelRequest,
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
    body: UpdateDeploymentRequest,
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
  /** The native data plane's state, and its URL when it runs and this caller can reach it. */
  getGateway(): Promise<GatewayInfo>;

  /** The model's alert rules (manifest and API) with their states. */
  getModelAlerts(ref: ModelRef): Promise<ModelAlerts>;
  /** Replaces the rules set through the API (the manifest's stay). */
  updateModelAlerts(ref: ModelRef, rules: AlertRule[]): Promise<ModelAlerts>;
  /** State changes of the model's rules, newest first. */
  getAlertHistory(
    ref: ModelRef,
    query?: { rule?: string; limit?: number; offset?: number },
  ): Promise<AlertHistoryPage>;
  /** Holds back a rule's notifications for `duration` (`30m`, `2h`, `1d`). */
  silenceAlert(
    ref: ModelRef,
    rule: string,
    duration: string,
  ): Promise<ModelAlert>;
  /** Lifts a rule's silence. */
  unsilenceAlert(ref: ModelRef, rule: string): Promise<ModelAlert>;
  /** The model's generated Grafana dashboard (JSON), for download. */
  getModelDashboard(ref: ModelRef): Promise<Record<string, unknown>>;
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
    body: SubscriptionUpdate,
  ): Promise<ModelSubscription>;
  deleteSubscription(id: string): Promise<void>;
  listDeadLetters(id: string): Promise<DeadLetter[]>;
  retryDeadLetter(id: string, letterId: string): Promise<void>;
  /** Build, deployment and execution log lines, oldest first. */
  searchLogs(ref: ModelRef, query?: ModelLogQuery): Promise<ModelLogPage>;
}

function bodyOf(response: Response): ReadableStream<Uint8Array> {
  return response.body ?? new Blob([]).stream();
}

/** A response as it came, or the ResponseError naming the server's reason. */
async function ok<T>(response: TypedResponse<T>): Promise<TypedResponse<T>> {
  if (!response.ok) {
    const error = await ResponseError.fromResponse(response as Response);
    // The backend's message names the field or the reason: keep it visible.
    const detail = error.body?.error?.message;
    if (detail && !error.message.includes(detail)) {
      error.message = `${error.message}: ${detail}`;
    }
    throw error;
  }
  return response;
}

async function json<T>(response: Promise<TypedResponse<T>>): Promise<T> {
  return (await ok(await response)).json();
}

/**
 * Works in the browser and in Node: the caller supplies how to find the
 * backend and how to fetch (with its own credentials). Each method calls the
 * client generated from the OpenAPI document (`DefaultApiClient`) and turns
 * error answers into a `ResponseError`.
 *
 * @public
 */
export class MlPlatformClient implements MlPlatformApi {
  private readonly apiClient: DefaultApiClient;

  constructor(options: {
    discoveryApi: { getBaseUrl(pluginId: string): Promise<string> };
    fetchApi?: { fetch: typeof fetch };
  }) {
    this.apiClient = new DefaultApiClient(options);
  }

  async listModels(): Promise<ModelSummary[]> {
    return (await json(this.apiClient.listModels({}))).items;
  }

  getModel(ref: ModelRef) {
    return json(this.apiClient.getModel({ path: ref }));
  }

  registerModel(ref: ModelRef, body: RegisterModelRequest = {}) {
    return json(this.apiClient.registerModel({ path: ref, body }));
  }

  getModelPermissions(ref: ModelRef) {
    return json(this.apiClient.getModelPermissions({ path: ref }));
  }

  listActivity(ref: ModelRef, page: { limit?: number; offset?: number } = {}) {
    return json(this.apiClient.listActivity({ path: ref, query: page }));
  }

  listBuilds(ref: ModelRef, page: { limit?: number; offset?: number } = {}) {
    return json(this.apiClient.listBuilds({ path: ref, query: page }));
  }

  getBuild(id: string) {
    return json(this.apiClient.getBuild({ path: { id } }));
  }

  createBuild(ref: ModelRef, body: { branch?: string; commit?: string } = {}) {
    return json(this.apiClient.createBuild({ path: ref, body }));
  }

  cancelBuild(id: string) {
    return json(this.apiClient.cancelBuild({ path: { id } }));
  }

  async getBuildLog(id: string, after = 0) {
    return (await json(
      this.apiClient.getBuildLogs({
        path: { id },
        query: { format: 'json', after },
      }),
    )) as BuildLogPage;
  }

  followBuildLog(
    id: string,
    options: { signal?: AbortSignal } = {},
  ): AsyncIterable<string> {
    return this.lines(
      requestOptions =>
        this.apiClient.getBuildLogs(
          { path: { id }, query: { follow: 'true' } },
          requestOptions,
        ),
      options.signal,
    );
  }

  async listDeployments(ref: ModelRef) {
    return (await json(this.apiClient.listDeployments({ path: ref }))).items;
  }

  getDeployment(id: string) {
    return json(this.apiClient.getDeployment({ path: { id } }));
  }

  createDeployment(ref: ModelRef, body: CreateDeploymentBody) {
    return json(this.apiClient.createDeployment({ path: ref, body }));
  }

  updateDeployment(id: string, body: UpdateDeploymentRequest) {
    return json(this.apiClient.updateDeployment({ path: { id }, body }));
  }

  async deleteDeployment(id: string): Promise<void> {
    await ok(await this.apiClient.deleteDeployment({ path: { id } }));
  }

  async getDeploymentLogs(
    id: string,
    options: { tail?: number; after?: number } = {},
  ) {
    return (await json(
      this.apiClient.getDeploymentLogs({
        path: { id },
        query: { format: 'json', tail: options.tail, after: options.after },
      }),
    )) as DeploymentLogPage;
  }

  followDeploymentLogs(
    id: string,
    options: { tail?: number; signal?: AbortSignal } = {},
  ): AsyncIterable<string> {
    return this.lines(
      requestOptions =>
        this.apiClient.getDeploymentLogs(
          { path: { id }, query: { follow: 'true', tail: options.tail } },
          requestOptions,
        ),
      options.signal,
    );
  }

  predict(ref: ModelRef, body: unknown): Promise<PredictionResult> {
    return this.invoke(() =>
      this.apiClient.predict({ path: ref, body: body as object }),
    );
  }

  infer(name: string, body: unknown): Promise<PredictionResult> {
    return this.invoke(() =>
      this.apiClient.inferV2({
        path: { name },
        body: body as Parameters<DefaultApiClient['inferV2']>[0]['body'],
      }),
    );
  }

  /** An invocation's answer as it came: model errors are answers too. */
  private async invoke(
    call: () => Promise<TypedResponse<unknown>>,
  ): Promise<PredictionResult> {
    const started = Date.now();
    const response = await call();
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
  ): Promise<UploadedInput> {
    return json(
      this.apiClient.uploadInput(
        { path: ref, query: { filename }, body: file },
        { signal: options.signal },
      ),
    );
  }

  async listExecutions(ref: ModelRef) {
    return (await json(this.apiClient.listExecutions({ path: ref }))).items;
  }

  getExecution(id: string) {
    return json(this.apiClient.getExecution({ path: { id } }));
  }

  createExecution(ref: ModelRef, body: CreateExecutionBody) {
    return json(this.apiClient.createExecution({ path: ref, body }));
  }

  cancelExecution(id: string) {
    return json(this.apiClient.cancelExecution({ path: { id } }));
  }

  async listExecutionChunks(id: string, status?: ExecutionChunk['status']) {
    return (
      await json(
        this.apiClient.listExecutionChunks({ path: { id }, query: { status } }),
      )
    ).items;
  }

  async downloadExecutionResult(id: string): Promise<Blob> {
    const response = await ok(
      await this.apiClient.downloadExecutionResult({ path: { id } }),
    );
    return response.blob();
  }

  listPredictionEvents(ref: ModelRef, query: PredictionEventQuery = {}) {
    return json(this.apiClient.listPredictionEvents({ path: ref, query }));
  }

  async exportPredictionEvents(
    ref: ModelRef,
    format: 'jsonl' | 'csv',
    query: Omit<PredictionEventQuery, 'limit' | 'cursor'> = {},
  ): Promise<Blob> {
    const response = await ok(
      await this.apiClient.exportPredictionEvents({
        path: ref,
        query: { ...query, format },
      }),
    );
    return response.blob();
  }

  async listSubscriptions(ref: ModelRef) {
    return (await json(this.apiClient.listSubscriptions({ path: ref }))).items;
  }

  createSubscription(ref: ModelRef, body: SubscriptionBody) {
    return json(this.apiClient.createSubscription({ path: ref, body }));
  }

  updateSubscription(id: string, body: SubscriptionUpdate) {
    return json(this.apiClient.updateSubscription({ path: { id }, body }));
  }

  async deleteSubscription(id: string): Promise<void> {
    await ok(await this.apiClient.deleteSubscription({ path: { id } }));
  }

  async listDeadLetters(id: string) {
    return (
      await json(this.apiClient.listDeadLetters({ path: { id }, query: {} }))
    ).items;
  }

  async retryDeadLetter(id: string, letterId: string): Promise<void> {
    await ok(await this.apiClient.retryDeadLetter({ path: { id, letterId } }));
  }

  searchLogs(ref: ModelRef, query: ModelLogQuery = {}) {
    return json(this.apiClient.searchModelLogs({ path: ref, query }));
  }

  getModelMetrics(ref: ModelRef, query: ModelMetricsQuery = {}) {
    const seconds = (d?: Date) => d && String(d.getTime() / 1000);
    return json(
      this.apiClient.getModelMetrics({
        path: ref,
        query: {
          from: seconds(query.from),
          to: seconds(query.to),
          step:
            query.stepSeconds !== undefined
              ? String(query.stepSeconds)
              : undefined,
          deployment: query.deploymentId,
          version: query.version,
        },
      }),
    );
  }

  async listModelTraffic(window?: string) {
    return (await json(this.apiClient.listModelTraffic({ query: { window } })))
      .items;
  }

  getGateway() {
    return json(this.apiClient.getGateway({}));
  }

  getModelAlerts(ref: ModelRef) {
    return json(this.apiClient.getModelAlerts({ path: ref }));
  }

  updateModelAlerts(ref: ModelRef, rules: AlertRule[]) {
    return json(
      this.apiClient.updateModelAlerts({ path: ref, body: { rules } }),
    );
  }

  getAlertHistory(
    ref: ModelRef,
    query: { rule?: string; limit?: number; offset?: number } = {},
  ) {
    return json(this.apiClient.getAlertHistory({ path: ref, query }));
  }

  silenceAlert(ref: ModelRef, rule: string, duration: string) {
    return json(
      this.apiClient.silenceAlert({
        path: { ...ref, rule },
        body: { duration },
      }),
    );
  }

  unsilenceAlert(ref: ModelRef, rule: string) {
    return json(this.apiClient.unsilenceAlert({ path: { ...ref, rule } }));
  }

  getModelDashboard(ref: ModelRef) {
    return json(this.apiClient.getModelDashboard({ path: ref }));
  }

  async readExecutionResult(
    id: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<ExecutionResultStream> {
    const response = await ok(
      await this.apiClient.downloadExecutionResult(
        { path: { id } },
        { signal: options.signal },
      ),
    );
    const length = response.headers.get('Content-Length');
    const disposition = response.headers.get('Content-Disposition') ?? '';
    return {
      body: bodyOf(response as Response),
      contentType: response.headers.get('Content-Type') ?? undefined,
      filename: /filename="([^"]+)"/.exec(disposition)?.[1],
      size: length ? Number(length) : undefined,
    };
  }

  /** A streamed text response, line by line. */
  private async *lines(
    call: (options: {
      signal?: AbortSignal;
      headers: Record<string, string>;
    }) => Promise<TypedResponse<unknown>>,
    signal?: AbortSignal,
  ): AsyncGenerator<string> {
    const response = await ok(
      await call({
        signal,
        // A compressing proxy or middleware holds lines back until its buffer
        // fills; ask for the bytes as written. (Browsers ignore this header.)
        headers: { 'Accept-Encoding': 'identity' },
      }),
    );
    const reader = bodyOf(response as Response).getReader();
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
}
