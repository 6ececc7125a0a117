import { LoggerService } from '@backstage/backend-plugin-api';
import {
  ArtifactLinks,
  OnlineDeploymentSpec,
  OnlineStatus,
  ReplicaState,
  ReplicaStatus,
  Runtime,
  RuntimeLogLine,
} from '@internal/plugin-ml-platform-node';
import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  Informer,
  KubeConfig,
  Log,
  ObjectCache,
  PatchStrategy,
  V1Deployment,
  V1Pod,
  V1Secret,
  makeInformer,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { PassThrough } from 'node:stream';
import readline from 'node:readline';
import { KubernetesBatchRuntime } from './KubernetesBatchRuntime';
import { KubernetesRuntimeConfig } from './config';
import {
  LABELS,
  MANAGED,
  MODEL_PORT,
  SERVICE_PORT,
  buildTokenKey,
  onlineManifests,
  tokenSecret,
} from './manifests';

const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** The HTTP status of a client-node error, if it is one. */
export function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

/** True when every field of `desired` has the same value in `actual`. */
export function isSubset(desired: unknown, actual: unknown): boolean {
  if (desired === undefined) return true;
  if (desired === null || typeof desired !== 'object') {
    return String(desired) === String(actual);
  }
  if (Array.isArray(desired)) {
    return (
      Array.isArray(actual) &&
      actual.length === desired.length &&
      desired.every((d, i) => isSubset(d, actual[i]))
    );
  }
  if (!actual || typeof actual !== 'object') return false;
  return Object.entries(desired).every(([k, v]) =>
    isSubset(v, (actual as Record<string, unknown>)[k]),
  );
}

/**
 * The `kubernetes` runtime. An online deployment is a Deployment (rolling
 * updates with `maxUnavailable: 0`, V2 health probes, draining on
 * SIGTERM), a Service and, when `minReplicas` and `maxReplicas` differ, a
 * HorizontalPodAutoscaler; pods fetch the build through the platform with a
 * token scoped to its digest (kept fresh in a Secret). Applying is
 * idempotent and repairs drift: what is missing is created, what differs is
 * patched. Status and replica URLs come from informers on the runtime's
 * Deployments and pods; logs from the pod log API.
 */
export class KubernetesRuntime implements Runtime {
  readonly type = 'kubernetes';
  readonly scope = 'shared' as const;
  readonly batch: KubernetesBatchRuntime;

  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly autoscaling: AutoscalingV2Api;
  private readonly deployments: Informer<V1Deployment> &
    ObjectCache<V1Deployment>;
  private readonly pods: Informer<V1Pod> & ObjectCache<V1Pod>;
  private readonly statusListeners = new Set<(s: OnlineStatus) => void>();
  private readonly lastStatus = new Map<string, string>();
  private stopped = false;

  constructor(
    private readonly options: {
      kubeConfig: KubeConfig;
      config: KubernetesRuntimeConfig;
      logger: LoggerService;
      artifactLinks: ArtifactLinks;
      batch: KubernetesBatchRuntime;
    },
  ) {
    const kc = options.kubeConfig;
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.autoscaling = kc.makeApiClient(AutoscalingV2Api);
    this.batch = options.batch;
    const namespace = options.config.namespace;
    const selector = `${MANAGED},${LABELS.deployment}`;
    this.deployments = makeInformer(
      kc,
      `/apis/apps/v1/namespaces/${namespace}/deployments`,
      () =>
        this.apps.listNamespacedDeployment({
          namespace,
          labelSelector: selector,
        }),
      selector,
    );
    this.pods = makeInformer(
      kc,
      `/api/v1/namespaces/${namespace}/pods`,
      () => this.core.listNamespacedPod({ namespace, labelSelector: selector }),
      selector,
    );
    for (const informer of [this.deployments, this.pods] as Array<
      Informer<any>
    >) {
      for (const event of ['add', 'update', 'delete'] as const) {
        informer.on(event, (obj: V1Deployment | V1Pod) => {
          const id = obj.metadata?.labels?.[LABELS.deployment];
          if (id) this.emitStatus(id);
        });
      }
      // A watch that failed (not a normal close) is started again.
      informer.on('error', (error: unknown) => {
        if (this.stopped) return;
        options.logger.warn(`Kubernetes watch failed, restarting: ${error}`);
        setTimeout(() => void informer.start().catch(() => {}), 1000);
      });
    }
  }

  /** Lists and starts watching; the module calls it before serving. */
  async start(): Promise<void> {
    await Promise.all([this.deployments.start(), this.pods.start()]);
  }

  async applyOnline(spec: OnlineDeploymentSpec): Promise<void> {
    const { config } = this.options;
    const namespace = config.namespace;
    const link = await this.ensureToken(spec);
    const m = onlineManifests({ config, spec, artifactUrl: link.url });
    // The autoscaler owns replicas once it runs; from zero (created or
    // woken) the Deployment is scaled by the runtime.
    const current = this.deploymentObject(spec.deploymentId);
    if (m.hpa && (current?.spec?.replicas ?? 0) > 0) {
      delete m.deployment.spec!.replicas;
    }
    await this.ensure(
      m.service,
      () => this.core.readNamespacedService({ name: m.name, namespace }),
      body => this.core.createNamespacedService({ namespace, body }),
      body =>
        this.core.patchNamespacedService(
          { name: m.name, namespace, body },
          MERGE_PATCH,
        ),
    );
    await this.ensure(
      m.deployment,
      () => this.apps.readNamespacedDeployment({ name: m.name, namespace }),
      body => this.apps.createNamespacedDeployment({ namespace, body }),
      body =>
        this.apps.patchNamespacedDeployment(
          { name: m.name, namespace, body },
          MERGE_PATCH,
        ),
    );
    if (m.hpa) {
      await this.ensure(
        m.hpa,
        () =>
          this.autoscaling.readNamespacedHorizontalPodAutoscaler({
            name: m.name,
            namespace,
          }),
        body =>
          this.autoscaling.createNamespacedHorizontalPodAutoscaler({
            namespace,
            body,
          }),
        body =>
          this.autoscaling.patchNamespacedHorizontalPodAutoscaler(
            { name: m.name, namespace, body },
            MERGE_PATCH,
          ),
      );
    } else {
      await this.ignoreNotFound(
        this.autoscaling.deleteNamespacedHorizontalPodAutoscaler({
          name: m.name,
          namespace,
        }),
      );
    }
  }

  async stopOnline(deploymentId: string): Promise<void> {
    const namespace = this.options.config.namespace;
    const deployment = this.deploymentObject(deploymentId);
    const name = deployment?.metadata?.name;
    if (!name) return;
    await this.ignoreNotFound(
      this.autoscaling.deleteNamespacedHorizontalPodAutoscaler({
        name,
        namespace,
      }),
    );
    await this.ignoreNotFound(
      this.core.deleteNamespacedService({ name, namespace }),
    );
    await this.ignoreNotFound(
      this.apps.deleteNamespacedDeployment({
        name,
        namespace,
        propagationPolicy: 'Background',
      }),
    );
    await this.ignoreNotFound(
      this.core.deleteNamespacedSecret({ name: `${name}-artifact`, namespace }),
    );
  }

  getOnlineStatus(deploymentId: string): OnlineStatus | undefined {
    const deployment = this.deploymentObject(deploymentId);
    if (!deployment) return undefined;
    const pods = this.podsOf(deploymentId);
    const desired = deployment.spec?.replicas ?? 0;
    const status = deployment.status ?? {};
    const ready = status.readyReplicas ?? 0;
    const replicas = pods.map(pod => this.replicaOf(pod));
    const targetBuild =
      deployment.metadata?.annotations?.['ml-platform/build-id'] ?? '';
    const rolledOut =
      (status.observedGeneration ?? 0) >=
        (deployment.metadata?.generation ?? 0) &&
      (status.updatedReplicas ?? 0) >= desired &&
      (status.replicas ?? 0) === (status.updatedReplicas ?? 0);
    const crashing = replicas.find(
      r => r.state === 'restarting' || r.state === 'failed',
    );
    const stuck = (status.conditions ?? []).find(
      c =>
        (c.type === 'Progressing' && c.status === 'False') ||
        (c.type === 'ReplicaFailure' && c.status === 'True'),
    );
    let state: OnlineStatus['state'];
    let reason: string | undefined;
    if (desired === 0 && pods.length === 0) {
      state = 'stopped';
    } else if (ready >= desired && rolledOut && desired > 0) {
      state = 'ready';
    } else if (stuck || (crashing && crashing.restarts >= 3)) {
      state = 'degraded';
      reason =
        stuck?.message ??
        `replica ${crashing!.id} restarted ${crashing!.restarts} times${
          crashing!.lastError ? `: ${crashing!.lastError}` : ''
        }`;
    } else {
      state = 'deploying';
    }
    const serving = replicas.find(r => r.state === 'ready')?.buildId;
    return {
      deploymentId,
      state,
      reason,
      desiredReplicas: desired,
      readyReplicas: ready,
      buildId: rolledOut ? targetBuild : serving ?? targetBuild,
      replicas,
    };
  }

  listOnline(): string[] {
    return this.deployments
      .list(this.options.config.namespace)
      .map(d => d.metadata?.labels?.[LABELS.deployment])
      .filter((id): id is string => Boolean(id));
  }

  readyEndpoints(deploymentId: string): string[] {
    const { config } = this.options;
    if (config.replicaUrls === 'pods') {
      return this.podsOf(deploymentId)
        .map(pod => this.replicaOf(pod))
        .filter(r => r.state === 'ready' && r.url)
        .map(r => r.url!);
    }
    const deployment = this.deploymentObject(deploymentId);
    if (!deployment || !(deployment.status?.readyReplicas ?? 0)) return [];
    return [
      `http://${deployment.metadata!.name}.${config.namespace}.svc.${
        config.clusterDomain
      }:${SERVICE_PORT}`,
    ];
  }

  onStatusChange(listener: (status: OnlineStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => {
      this.statusListeners.delete(listener);
    };
  }

  async readLogs(
    deploymentId: string,
    options: { tail?: number; afterSeq?: number } = {},
  ): Promise<RuntimeLogLine[]> {
    const namespace = this.options.config.namespace;
    const lines: RuntimeLogLine[] = [];
    for (const pod of this.podsOf(deploymentId)) {
      const name = pod.metadata!.name!;
      let text: string;
      try {
        text = await this.core.readNamespacedPodLog({
          name,
          namespace,
          container: 'model',
          timestamps: true,
          tailLines: options.afterSeq === undefined ? options.tail : undefined,
          // The API takes whole seconds; lines at or before afterSeq are dropped below.
          sinceSeconds:
            options.afterSeq !== undefined
              ? Math.max(
                  1,
                  Math.ceil((Date.now() - options.afterSeq / 1000) / 1000) + 1,
                )
              : undefined,
        });
      } catch (error) {
        // Not started yet, or gone: nothing to read.
        if ([400, 404].includes(statusOf(error) ?? 0)) continue;
        throw error;
      }
      lines.push(...parseLogLines(text, name));
    }
    lines.sort((a, b) => a.seq - b.seq);
    const after = lines.filter(
      l => options.afterSeq === undefined || l.seq > options.afterSeq,
    );
    return options.tail && options.afterSeq === undefined
      ? after.slice(-options.tail)
      : after;
  }

  onLog(
    deploymentId: string,
    listener: (line: RuntimeLogLine) => void,
  ): () => void {
    const namespace = this.options.config.namespace;
    const followed = new Map<string, AbortController | undefined>();
    let closed = false;
    // Lines from several pods interleave: numbered in the order they come,
    // never below their time, so a reader's "after" keeps every new line.
    let lastSeq = 0;
    const since = new Date().toISOString();
    const follow = async (pod: V1Pod) => {
      const name = pod.metadata!.name!;
      if (followed.has(name) || pod.status?.phase !== 'Running') return;
      followed.set(name, undefined);
      const stream = new PassThrough();
      readline.createInterface({ input: stream }).on('line', line => {
        const [parsed] = parseLogLines(line, name);
        if (!parsed) return;
        parsed.seq = Math.max(lastSeq + 1, parsed.seq);
        lastSeq = parsed.seq;
        listener(parsed);
      });
      try {
        const controller = await new Log(this.options.kubeConfig).log(
          namespace,
          name,
          'model',
          stream,
          // Only what is written from now on.
          { follow: true, timestamps: true, sinceTime: since },
        );
        if (closed) controller.abort();
        else followed.set(name, controller);
      } catch {
        followed.delete(name);
      }
    };
    const scan = () => {
      for (const pod of this.podsOf(deploymentId)) void follow(pod);
    };
    const onPod = (pod: V1Pod) => {
      if (pod.metadata?.labels?.[LABELS.deployment] === deploymentId) scan();
    };
    this.pods.on('update', onPod);
    this.pods.on('add', onPod);
    scan();
    return () => {
      closed = true;
      this.pods.off('update', onPod);
      this.pods.off('add', onPod);
      for (const controller of followed.values()) controller?.abort();
    };
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    await this.batch.shutdown();
    await Promise.all([this.deployments.stop(), this.pods.stop()]);
  }

  /**
   * The Secret with the tokens init containers fetch builds with, one per
   * build (a rollout's old and new pods each find theirs): re-issued when
   * half its life is gone, so new pods always get a valid one (running pods
   * fetched theirs already).
   */
  private async ensureToken(spec: OnlineDeploymentSpec) {
    const { config, artifactLinks } = this.options;
    const namespace = config.namespace;
    const m = onlineManifests({ config, spec, artifactUrl: '' });
    const key = buildTokenKey(spec.build);
    const link = await artifactLinks.download({
      uri: spec.build.artifactUri,
      digest: spec.build.artifactDigest,
    });
    let current: V1Secret | undefined;
    try {
      current = await this.core.readNamespacedSecret({
        name: m.secretName,
        namespace,
      });
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
    let expiries: Record<string, string> = {};
    try {
      expiries = JSON.parse(
        current?.metadata?.annotations?.['ml-platform/expires-at'] ?? '{}',
      );
    } catch {
      // written by someone else: issue afresh
    }
    const halfLife = (Date.parse(link.expiresAt) - Date.now()) / 2;
    const fresh =
      current?.data?.[key] &&
      Date.parse(expiries[key] ?? '') - Date.now() > halfLife;
    if (fresh) return link;
    // Keep the tokens of the two builds before this one (rollbacks).
    const kept = Object.entries(current?.data ?? {})
      .filter(([k]) => k !== key && expiries[k])
      .sort(([a], [b]) => Number(b.split('-')[1]) - Number(a.split('-')[1]))
      .slice(0, 2)
      .map(([k, v]) => [
        k,
        { token: Buffer.from(v, 'base64').toString(), expiresAt: expiries[k] },
      ]);
    const body = tokenSecret({
      name: m.secretName,
      namespace,
      labels: m.labels,
      tokens: { ...Object.fromEntries(kept), [key]: link },
    });
    if (current) {
      await this.core.replaceNamespacedSecret({
        name: m.secretName,
        namespace,
        body,
      });
    } else {
      await this.core.createNamespacedSecret({ namespace, body });
    }
    return link;
  }

  /** Creates an object, or patches it where it differs from `desired`. */
  private async ensure<T>(
    desired: T,
    read: () => Promise<unknown>,
    create: (body: T) => Promise<unknown>,
    patch: (body: T) => Promise<unknown>,
  ) {
    let actual: unknown;
    try {
      actual = await read();
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      const kind = (desired as { kind: string }).kind;
      const name = (desired as { metadata: { name: string } }).metadata.name;
      this.options.logger.info(`Creating ${kind} ${name}`);
      await create(desired);
      return;
    }
    const { metadata, spec } = desired as { metadata: object; spec: object };
    const current = actual as { metadata: object; spec: object };
    if (
      !isSubset(spec, current.spec) ||
      !isSubset(metadata, current.metadata)
    ) {
      await patch({ metadata, spec } as T);
    }
  }

  private async ignoreNotFound(request: Promise<unknown>) {
    try {
      await request;
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }

  private deploymentObject(deploymentId: string): V1Deployment | undefined {
    return this.deployments
      .list(this.options.config.namespace)
      .find(d => d.metadata?.labels?.[LABELS.deployment] === deploymentId);
  }

  private podsOf(deploymentId: string): V1Pod[] {
    return this.pods
      .list(this.options.config.namespace)
      .filter(p => p.metadata?.labels?.[LABELS.deployment] === deploymentId)
      .sort((a, b) =>
        String(a.metadata?.creationTimestamp).localeCompare(
          String(b.metadata?.creationTimestamp),
        ),
      );
  }

  private replicaOf(pod: V1Pod): ReplicaStatus {
    const container = pod.status?.containerStatuses?.find(
      c => c.name === 'model',
    );
    const init = pod.status?.initContainerStatuses?.[0];
    const ready = (pod.status?.conditions ?? []).some(
      c => c.type === 'Ready' && c.status === 'True',
    );
    const waiting = container?.state?.waiting ?? init?.state?.waiting;
    const restarts = (container?.restartCount ?? 0) + (init?.restartCount ?? 0);
    let state: ReplicaState = 'starting';
    if (pod.metadata?.deletionTimestamp) state = 'stopping';
    else if (pod.status?.phase === 'Failed') state = 'failed';
    else if (ready) state = 'ready';
    else if (waiting?.reason === 'CrashLoopBackOff' || restarts > 0)
      state = 'restarting';
    const ip = pod.status?.podIP;
    return {
      id: pod.metadata!.name!,
      buildId: pod.metadata?.labels?.[LABELS.build] ?? '',
      state,
      url: ip ? `http://${ip}:${MODEL_PORT}` : undefined,
      restarts,
      lastError:
        waiting?.message ??
        container?.lastState?.terminated?.message ??
        undefined,
      startedAt: new Date(
        pod.status?.startTime ?? pod.metadata?.creationTimestamp ?? Date.now(),
      ).toISOString(),
    };
  }

  private emitStatus(deploymentId: string) {
    const status = this.getOnlineStatus(deploymentId) ?? {
      deploymentId,
      state: 'stopped' as const,
      desiredReplicas: 0,
      readyReplicas: 0,
      buildId: '',
      replicas: [],
    };
    const key = JSON.stringify(status);
    if (this.lastStatus.get(deploymentId) === key) return;
    this.lastStatus.set(deploymentId, key);
    for (const listener of this.statusListeners) {
      try {
        listener(status);
      } catch (error) {
        this.options.logger.warn(`Status listener failed: ${error}`);
      }
    }
  }
}

/** `<RFC 3339 time> <line>` as the log API writes them with timestamps. */
function parseLogLines(text: string, replica: string): RuntimeLogLine[] {
  const lines: RuntimeLogLine[] = [];
  let i = 0;
  for (const raw of text.split('\n')) {
    if (!raw) continue;
    const space = raw.indexOf(' ');
    const time = raw.slice(0, space);
    const ms = Date.parse(time);
    if (Number.isNaN(ms)) continue;
    lines.push({
      // Time-ordered across pods; afterSeq continues from it.
      seq: ms * 1000 + (i++ % 1000),
      time: new Date(ms).toISOString(),
      replica,
      stream: 'stdout',
      line: raw.slice(space + 1),
    });
  }
  return lines;
}
