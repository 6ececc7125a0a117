import {
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import {
  ConflictError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import {
  ModelDeployment,
  mlPlatformModelInvokePermission,
} from '@internal/plugin-ml-platform-common';
import { Runtime } from '@internal/plugin-ml-platform-node';
import { principalRef } from '../access/ModelAccess';
import { PlatformStores } from '../database';
import { Reconciler } from '../deployments/Reconciler';
import { ModelCatalog } from '../services/ModelCatalog';
import { statusOf } from './errors';
import { ReplicaClient, ReplicaResponse, isRetryable } from './ReplicaClient';
import { errorMeta } from '../util/logging';

/**
 * How a call reached the gateway: one of its HTTP routes, or an event a
 * subscription turned into a records call.
 */
export type InvocationRoute = 'v2' | 'records' | 'event';

/** What the gateway records of each call; monitoring subscribes to it. */
export interface Invocation {
  modelRef: string;
  deploymentId: string;
  buildId: string;
  /** `v2` (Open Inference Protocol) or `records` (MLflow shapes). */
  protocol: 'v2' | 'records';
  route: InvocationRoute;
  /** `user` or `service` from the credentials; `event` for subscriptions. */
  callerKind: 'user' | 'service' | 'event';
  status: number;
  latencyMs: number;
  requestBytes: number;
  responseBytes: number;
  /** Replicas tried, more than one after a retry. */
  attempts: number;
  coldStart: boolean;
  error?: string;
  /** The caller, e.g. `user:default/ada` or `service:<subject>`. */
  caller?: string;
  /** Calls under way to the deployment when this one started, itself included. */
  inFlight: number;
  /**
   * The request body (absent when it could not be read, e.g. too large) and
   * the model's answer as they came, not copied: read them, never change them.
   */
  request?: Buffer;
  response?: Buffer;
  /** `request` as parsed by the gateway's check, when it was parsed. */
  requestJson?: unknown;
  /** `response` as parsed, when it was (a share of a batched call's answer). */
  responseJson?: unknown;
  /** For calls a subscription made: the event it predicts. */
  source?: InvocationSource;
  /**
   * When the call ended (epoch ms), for calls recorded after the fact (the
   * native data plane's, read from its log); others end when observed.
   */
  endedAt?: number;
}

/** The event behind a call a subscription made. */
export interface InvocationSource {
  subscriptionId: string;
  /** The event's id (its idempotency key); the first one's, for several. */
  eventId: string;
  /**
   * For a call that predicts several events at once: each one's id and how
   * many of the call's rows, in order, are its.
   */
  events?: Array<{ eventId: string; rows: number }>;
}

/** How a call came in, for calls from inside the backend. */
export interface InvocationVia {
  route: InvocationRoute;
  callerKind?: 'event';
  source?: InvocationSource;
}

export type InvocationObserver = (invocation: Invocation) => void;

/** A request body as the gateway forwards it. */
export interface RequestBody {
  bytes: Buffer;
  /** The body as parsed when it was checked (read it, never change it). */
  json?: unknown;
}

/**
 * The request body, read (and checked) only once the model and its
 * deployment are known: an unknown model is a 404 whatever the body.
 */
export type InvocationBody = () => Promise<RequestBody>;

export interface GatewayOptions {
  stores: Pick<PlatformStores, 'deployments' | 'models'>;
  runtime: Runtime;
  reconciler: Reconciler;
  models: ModelCatalog;
  logger: LoggerService;
  timeoutMs: number;
  coldStartTimeoutMs: number;
}

/** Live online deployments, indexed the two ways calls address them. */
interface OnlineDeployments {
  all: ModelDeployment[];
  byRef: Map<string, ModelDeployment>;
  byName: Map<string, ModelDeployment[]>;
}

function indexOnline(all: ModelDeployment[]): OnlineDeployments {
  const byRef = new Map<string, ModelDeployment>();
  const byName = new Map<string, ModelDeployment[]>();
  for (const d of all) {
    if (!byRef.has(d.modelRef)) byRef.set(d.modelRef, d);
    const { name } = parseEntityRef(d.modelRef);
    byName.set(name, [...(byName.get(name) ?? []), d]);
  }
  return { all, byRef, byName };
}

/**
 * The invoke path: finds the model's live online deployment, picks the ready
 * replica with the fewest outstanding requests, forwards the body over a
 * keep-alive connection, retries on another replica when a connection fails,
 * and tells observers about every call.
 */
export class Gateway {
  private readonly outstanding = new Map<string, number>();
  /** Calls under way per deployment, with the deployment they go to. */
  private readonly inFlight = new Map<
    string,
    { deployment: ModelDeployment; calls: number }
  >();
  private readonly observers: InvocationObserver[] = [];
  /** Online deployments, re-read at most every half second: not a query per request. */
  private online?: { at: number; deployments: Promise<OnlineDeployments> };
  /** The last online deployments read, for lookups that cannot wait. */
  private lastOnline?: OnlineDeployments;
  /** Calls under way in the native data plane, per deployment id. */
  private nativeInFlight = new Map<string, number>();

  private readonly replicas: ReplicaClient;

  constructor(private readonly options: GatewayOptions) {
    this.replicas = new ReplicaClient(options.timeoutMs);
  }

  onInvocation(observer: InvocationObserver): () => void {
    this.observers.push(observer);
    return () => this.observers.splice(this.observers.indexOf(observer), 1);
  }

  /** `POST v2/models/{name}/infer`: the model is found by its name alone. */
  async inferV2(
    name: string,
    body: InvocationBody,
    credentials: BackstageCredentials,
  ) {
    const deployment = await this.authorize(
      { protocol: 'v2', name },
      credentials,
    );
    return this.forward(
      deployment,
      'v2',
      `/v2/models/${encodeURIComponent(name)}/infer`,
      body,
      credentials,
    );
  }

  /**
   * `POST models/{ns}/{name}/predict`: MLflow records shapes. Other callers
   * in the backend (event subscriptions) pass their `route` and caller kind.
   */
  async predict(
    ref: { namespace: string; name: string },
    body: InvocationBody,
    credentials: BackstageCredentials,
    via: InvocationVia = { route: 'records' },
  ) {
    const deployment = await this.authorize(
      { protocol: 'records', ...ref },
      credentials,
    );
    return this.forward(
      deployment,
      'records',
      '/invocations',
      body,
      credentials,
      via,
    );
  }

  /** Calls under way now, per live deployment (for the in-flight gauge). */
  *callsInFlight(): Iterable<{
    modelRef: string;
    deploymentId: string;
    buildId: string;
    inFlight: number;
  }> {
    for (const { deployment, calls } of this.inFlight.values()) {
      yield {
        modelRef: deployment.modelRef,
        deploymentId: deployment.id,
        buildId: deployment.buildId,
        inFlight: calls + (this.nativeInFlight.get(deployment.id) ?? 0),
      };
    }
    for (const [id, calls] of this.nativeInFlight) {
      if (this.inFlight.has(id)) continue;
      const deployment = this.knownDeployment(id);
      if (deployment) {
        yield {
          modelRef: deployment.modelRef,
          deploymentId: id,
          buildId: deployment.buildId,
          inFlight: calls,
        };
      }
    }
  }

  /**
   * The deployment a call to `target` goes to, once the caller is known
   * and may invoke it: the same lookups and checks, in the same order and
   * with the same errors, as a call. For the native data plane, which
   * forwards the call itself.
   */
  async authorize(
    target:
      | { protocol: 'v2'; name: string }
      | { protocol: 'records'; namespace: string; name: string },
    credentials: BackstageCredentials,
  ): Promise<ModelDeployment> {
    if (target.protocol === 'v2') {
      const deployment = await this.deploymentByName(target.name);
      await this.checkVisible(deployment.modelRef, credentials);
      return deployment;
    }
    const modelRef = stringifyEntityRef({ kind: 'component', ...target });
    await this.checkVisible(modelRef, credentials);
    const deployment = await this.onlineOrFresh(online =>
      online.byRef.get(modelRef),
    );
    if (!deployment) {
      throw new ServiceUnavailableError(
        `${modelRef} has no online deployment; deploy a build first`,
      );
    }
    return deployment;
  }

  /** Each online deployment's ready replicas, as calls would find them now. */
  async readyRoutes(): Promise<
    Array<{ deployment: ModelDeployment; urls: string[] }>
  > {
    const { all } = await this.onlineDeployments();
    return Promise.all(
      all.map(async deployment => ({
        deployment,
        urls: await this.readyUrls(deployment.id),
      })),
    );
  }

  /**
   * A call the native data plane forwarded: observers record it as any
   * other, and its deployment is not idle.
   */
  recordForwarded(invocation: Invocation) {
    this.options.reconciler.noteRequest(invocation.deploymentId);
    this.notify(invocation);
  }

  /** The native data plane's calls under way, per deployment id. */
  setNativeInFlight(calls: Map<string, number>) {
    this.nativeInFlight = calls;
  }

  private knownDeployment(id: string): ModelDeployment | undefined {
    return this.lastOnline?.all.find(d => d.id === id);
  }

  private notify(invocation: Invocation) {
    for (const observer of this.observers) {
      try {
        observer(invocation);
      } catch (e) {
        this.options.logger.warn('invocation observer failed', errorMeta(e));
      }
    }
  }

  async close() {
    await this.replicas.close();
  }

  /** Online deployments read at most `maxAgeMs` ago (0: read now). */
  private onlineDeployments(maxAgeMs = 500): Promise<OnlineDeployments> {
    const now = Date.now();
    if (!this.online || now - this.online.at >= maxAgeMs) {
      const deployments = this.options.stores.deployments
        .listDeployments({ type: 'online' })
        .then(indexOnline);
      deployments.then(
        online => {
          this.lastOnline = online;
        },
        () => {},
      );
      this.online = { at: now, deployments };
      deployments.catch(() => {
        this.online = undefined;
      });
    }
    return this.online.deployments;
  }

  /**
   * `find` on the online deployments read in the last half second, or, when
   * it finds nothing there, on a read of the last 50 ms: a deployment made
   * (and ready) since is found at once, and calls to a model without one
   * read the store 20 times a second at most. Calls that find theirs never
   * wait for the store.
   */
  private async onlineOrFresh<T>(
    find: (online: OnlineDeployments) => T | undefined,
  ): Promise<T | undefined> {
    return (
      find(await this.onlineDeployments()) ??
      find(await this.onlineDeployments(50))
    );
  }

  private async deploymentByName(name: string): Promise<ModelDeployment> {
    const online = (await this.onlineOrFresh(o => o.byName.get(name))) ?? [];
    if (online.length > 1) {
      throw new ConflictError(
        `Several models are named ${name} (${online
          .map(d => d.modelRef)
          .join(', ')}); use POST models/{namespace}/${name}/predict`,
      );
    }
    if (online.length === 1) return online[0];
    const known = (await this.options.stores.models.listModels()).some(
      m => parseEntityRef(m.entityRef).name === name,
    );
    throw known
      ? new ServiceUnavailableError(
          `Model ${name} has no online deployment; deploy a build first`,
        )
      : new NotFoundError(`No model named ${name}`);
  }

  /** The caller sees the model and may invoke it (remembered a few seconds). */
  private async checkVisible(
    modelRef: string,
    credentials: BackstageCredentials,
  ) {
    await this.options.models.assertVisible(
      modelRef,
      credentials,
      mlPlatformModelInvokePermission,
    );
  }

  /**
   * Ready replicas: from this instance's runtime when it runs the
   * deployment, else as the instance that drives it reported them.
   */
  private async readyUrls(id: string, fresh = false): Promise<string[]> {
    const { runtime } = this.options;
    const local = runtime.readyEndpoints(id);
    if (local.length > 0 || runtime.listOnline().includes(id)) return local;
    const reported = (
      await this.onlineDeployments(fresh ? 0 : undefined)
    ).all.find(d => d.id === id)?.replicaStatus;
    return (reported ?? [])
      .filter(r => r.state === 'ready' && r.url)
      .map(r => r.url!);
  }

  private async endpoints(
    cached: ModelDeployment,
  ): Promise<{ urls: string[]; coldStart: boolean }> {
    const { runtime, reconciler } = this.options;
    reconciler.noteRequest(cached.id);
    let urls = runtime.readyEndpoints(cached.id);
    if (urls.length > 0) return { urls, coldStart: false };
    urls = await this.readyUrls(cached.id);
    if (urls.length > 0) return { urls, coldStart: false };
    // No replica: decide on the current state, not the cached one.
    const deployment =
      (await this.onlineDeployments(0)).all.find(d => d.id === cached.id) ??
      cached;
    if (!deployment.scaledToZeroAt && deployment.status !== 'deploying') {
      throw new ServiceUnavailableError(
        `Deployment ${deployment.id} of ${
          deployment.modelRef
        } has no ready replica${
          deployment.reason ? `: ${deployment.reason}` : ''
        }`,
      );
    }
    // Cold start (scaled to zero) or still deploying: wait for a replica.
    await reconciler.wake(deployment);
    const deadline = Date.now() + this.options.coldStartTimeoutMs;
    while (Date.now() < deadline) {
      urls = await this.readyUrls(deployment.id);
      if (urls.length > 0) return { urls, coldStart: true };
      await new Promise(r => setTimeout(r, 25));
    }
    const status = runtime.getOnlineStatus(deployment.id);
    throw new ServiceUnavailableError(
      `Deployment ${deployment.id} of ${
        deployment.modelRef
      } did not get a ready replica within ${Math.round(
        this.options.coldStartTimeoutMs / 1000,
      )} s${status?.reason ? `: ${status.reason}` : ''}`,
    );
  }

  private pick(urls: string[], exclude: Set<string>): string | undefined {
    let best: string | undefined;
    let bestLoad = Infinity;
    // Start at a random offset so equal loads spread across replicas.
    const offset = Math.floor(Math.random() * urls.length);
    for (let i = 0; i < urls.length; i++) {
      const url = urls[(i + offset) % urls.length];
      if (exclude.has(url)) continue;
      const load = this.outstanding.get(url) ?? 0;
      if (load < bestLoad) {
        best = url;
        bestLoad = load;
      }
    }
    return best;
  }

  /**
   * Reads the body and sends it to a replica of `deployment`; every call
   * that got this far is recorded, a refused body (4xx) included.
   */
  private async forward(
    deployment: ModelDeployment,
    protocol: Invocation['protocol'],
    path: string,
    readBody: InvocationBody,
    credentials: BackstageCredentials,
    via: InvocationVia = { route: protocol },
  ): Promise<ReplicaResponse> {
    const started = performance.now();
    let calls = this.inFlight.get(deployment.id);
    if (!calls || calls.deployment !== deployment) {
      calls = { deployment, calls: calls?.calls ?? 0 };
      this.inFlight.set(deployment.id, calls);
    }
    const inFlight = ++calls.calls;
    let body: RequestBody | undefined;
    const record = (
      status: number,
      attempts: number,
      coldStart: boolean,
      response: Buffer | undefined,
      error?: string,
    ) => {
      calls!.calls--;
      if (this.observers.length === 0) return;
      const principal = credentials.principal as { type: string };
      const invocation: Invocation = {
        modelRef: deployment.modelRef,
        deploymentId: deployment.id,
        buildId: deployment.buildId,
        protocol,
        route: via.route,
        callerKind:
          via.callerKind ?? (principal.type === 'user' ? 'user' : 'service'),
        status,
        latencyMs: performance.now() - started,
        requestBytes: body?.bytes.length ?? 0,
        responseBytes: response?.length ?? 0,
        attempts,
        coldStart,
        error,
        caller: principalRef(credentials),
        inFlight,
        request: body?.bytes,
        requestJson: body?.json,
        response,
        source: via.source,
      };
      this.notify(invocation);
    };

    let attempts = 0;
    let coldStart = false;
    try {
      body = await readBody();
      const ready = await this.endpoints(deployment);
      coldStart = ready.coldStart;
      const tried = new Set<string>();
      let lastError: Error | undefined;
      for (;;) {
        // Replicas can change between attempts (a restart, a rollout).
        const urls =
          attempts === 0 ? ready.urls : await this.readyUrls(deployment.id);
        const url =
          this.pick(urls, tried) ??
          (attempts < 3 ? this.pick(urls, new Set()) : undefined);
        if (!url) break;
        tried.add(url);
        attempts++;
        try {
          const response = await this.send(url, path, body.bytes);
          record(response.status, attempts, coldStart, response.body);
          return response;
        } catch (error) {
          lastError = error as Error;
          if (!isRetryable(error)) throw error;
          if (attempts >= Math.max(3, urls.length + 1)) break;
        }
      }
      throw new ServiceUnavailableError(
        `No replica of ${deployment.modelRef} answered: ${
          lastError?.message ?? 'none is ready'
        }`,
      );
    } catch (error) {
      const status = statusOf(error);
      record(
        status === 500 ? 502 : status,
        attempts,
        coldStart,
        undefined,
        (error as Error).message,
      );
      throw error;
    }
  }

  private async send(
    baseUrl: string,
    path: string,
    body: Buffer,
  ): Promise<ReplicaResponse> {
    this.outstanding.set(baseUrl, (this.outstanding.get(baseUrl) ?? 0) + 1);
    try {
      return await this.replicas.send(baseUrl, path, body);
    } finally {
      this.outstanding.set(baseUrl, (this.outstanding.get(baseUrl) ?? 1) - 1);
    }
  }
}
