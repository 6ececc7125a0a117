import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A self-signed certificate for 127.0.0.1, made with openssl. */
function selfSignedCertificate(): { key: string; cert: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-apiserver-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=fake-apiserver',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return {
      key: fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'),
      cert: fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A stored Kubernetes object. */
export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    generateName?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{
      apiVersion: string;
      kind: string;
      name: string;
      uid: string;
      controller?: boolean;
    }>;
    finalizers?: string[];
  };
  spec?: any;
  status?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  type?: string;
};

/** The resources the kubernetes runtime uses, as the API server knows them. */
const RESOURCES = [
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', status: true },
  {
    group: '',
    version: 'v1',
    plural: 'services',
    kind: 'Service',
    status: true,
  },
  {
    group: '',
    version: 'v1',
    plural: 'secrets',
    kind: 'Secret',
    status: false,
  },
  {
    group: 'apps',
    version: 'v1',
    plural: 'deployments',
    kind: 'Deployment',
    status: true,
  },
  {
    group: 'apps',
    version: 'v1',
    plural: 'replicasets',
    kind: 'ReplicaSet',
    status: true,
  },
  { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job', status: true },
  {
    group: 'autoscaling',
    version: 'v2',
    plural: 'horizontalpodautoscalers',
    kind: 'HorizontalPodAutoscaler',
    status: true,
  },
];
type Resource = (typeof RESOURCES)[number];

/** Deleting these without a propagation policy orphans their dependents. */
const ORPHAN_BY_DEFAULT = new Set(['jobs']);

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  resource: string;
  object: KubeObject;
  rv: number;
}

interface Watcher {
  resource: string;
  namespace?: string;
  selector: (labels: Record<string, string>) => boolean;
  res: http.ServerResponse;
}

/** A `Status` body, as the API server answers errors. */
function status(
  code: number,
  reason: string,
  message: string,
  details?: object,
) {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    details,
    code,
  };
}

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: object,
  ) {
    super(message);
  }
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value));

/**
 * Label selectors as the API server parses them: `a=b`, `a==b`, `a!=b`,
 * `a`, `!a`, `a in (x,y)`, `a notin (x,y)`.
 */
export function parseLabelSelector(
  selector: string | undefined,
): (labels: Record<string, string>) => boolean {
  if (!selector) return () => true;
  const terms = (selector.match(/([^,(]+(\([^)]*\))?)/g) ?? [])
    .map(t => t.trim())
    .filter(Boolean)
    .map(parseRequirement);
  return labels => terms.every(t => t(labels));
}

function parseRequirement(
  term: string,
): (labels: Record<string, string>) => boolean {
  const set = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
  if (set) {
    const [, key, op, values] = set;
    const members = values.split(',').map(v => v.trim());
    return l =>
      op === 'in'
        ? members.includes(l[key])
        : !(key in l) || !members.includes(l[key]);
  }
  const equality = /^([\w./-]+)\s*(!=|==|=)\s*([\w.-]*)$/.exec(term);
  if (equality) {
    const [, key, op, value] = equality;
    return l => (op === '!=' ? l[key] !== value : l[key] === value);
  }
  const absent = /^!([\w./-]+)$/.exec(term);
  if (absent) return l => !(absent[1] in l);
  const present = /^([\w./-]+)$/.exec(term);
  if (present) return l => present[1] in l;
  throw new ApiError(400, 'BadRequest', `unable to parse requirement: ${term}`);
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: any, patch: any): any {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    return clone(patch);
  }
  const result =
    target && typeof target === 'object' && !Array.isArray(target)
      ? { ...target }
      : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** RFC 6902 JSON patch (add, remove, replace, test). */
export function jsonPatch(target: any, operations: any[]): any {
  const doc = clone(target);
  const walk = (pointer: string) => {
    const keys = pointer
      .split('/')
      .slice(1)
      .map(k => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop()!;
    let parent = doc;
    for (const key of keys) {
      if (parent?.[key] === undefined) {
        throw new ApiError(422, 'Invalid', `path ${pointer} does not exist`);
      }
      parent = parent[key];
    }
    return { parent, last };
  };
  for (const op of operations) {
    const { parent, last } = walk(op.path);
    if (op.op === 'add') {
      if (Array.isArray(parent)) {
        parent.splice(last === '-' ? parent.length : Number(last), 0, op.value);
      } else parent[last] = op.value;
    } else if (op.op === 'replace') {
      if (parent[last] === undefined) {
        throw new ApiError(422, 'Invalid', `path ${op.path} does not exist`);
      }
      parent[last] = op.value;
    } else if (op.op === 'remove') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else if (op.op === 'test') {
      if (JSON.stringify(parent[last]) !== JSON.stringify(op.value)) {
        throw new ApiError(422, 'Invalid', `test failed at ${op.path}`);
      }
    } else {
      throw new ApiError(
        400,
        'BadRequest',
        `unsupported patch operation ${op.op}`,
      );
    }
  }
  return doc;
}

function qualified(resource: Resource) {
  return resource.group
    ? `${resource.plural}.${resource.group}`
    : resource.plural;
}

/**
 * A stateful Kubernetes API server for what the kubernetes runtime uses:
 * create, get, list (label selectors), replace (resourceVersion conflicts),
 * patch (merge and JSON patch, the content types client-node sends for
 * them), delete (grace, propagation: Foreground, Background, Orphan), the
 * status subresource, `?watch=true` streams from a resourceVersion (410 Gone
 * for one too old), pod logs, API discovery, bearer-token auth, and `Status`
 * bodies for every error. No controllers run here; see {@link FakeCluster}.
 */
export class FakeKubernetesApi {
  private readonly objects = new Map<string, KubeObject>();
  private readonly history: WatchEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private rv = 100;
  /** The oldest resourceVersion a watch may start from (older: 410 Gone). */
  private compactedRv = 100;
  private readonly listeners = new Set<(event: WatchEvent) => void>();
  /** Every request: method, path and the Content-Type of its body. */
  readonly requests: Array<{
    method: string;
    path: string;
    query: string;
    contentType?: string;
    /** The JSON body of a create, replace or patch. */
    body?: unknown;
  }> = [];
  /** Pod logs by `namespace/pod/container`; the kubelet appends. */
  readonly logs = new Map<string, Array<{ time: string; line: string }>>();
  private readonly logFollowers = new Map<
    string,
    Set<(entry: { time: string; line: string }) => void>
  >();

  private constructor(
    private readonly server: https.Server,
    readonly token: string,
    /** The CA to trust (the server's self-signed certificate), base64 PEM. */
    readonly caData: string,
  ) {}

  /** Serves HTTPS on 127.0.0.1, as API servers do (client-node refuses plain HTTP). */
  static async start(
    options: { token?: string } = {},
  ): Promise<FakeKubernetesApi> {
    const { key, cert } = selfSignedCertificate();
    const server = https.createServer({ key, cert });
    const api = new FakeKubernetesApi(
      server,
      options.token ?? 'fake-cluster-token',
      Buffer.from(cert).toString('base64'),
    );
    server.on('request', (req, res) => api.handle(req, res));
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    return api;
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `https://127.0.0.1:${port}`;
  }

  async close(): Promise<void> {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
    this.server.closeAllConnections();
    await new Promise(resolve => this.server.close(resolve));
  }

  /** Called for every change (the controllers run on these). */
  onChange(listener: (event: WatchEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Makes watches from before now answer 410 Gone, as after etcd compaction. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history.length = 0;
  }

  // ---- store, used by the HTTP layer and the controllers ----

  get(plural: string, namespace: string, name: string): KubeObject | undefined {
    const found = this.objects.get(`${plural}/${namespace}/${name}`);
    return found && clone(found);
  }

  list(plural: string, namespace?: string, selector?: string): KubeObject[] {
    const matches = parseLabelSelector(selector);
    return [...this.objects.entries()]
      .filter(([key]) => key.startsWith(`${plural}/${namespace ?? ''}`))
      .map(([, o]) => o)
      .filter(o => matches(o.metadata.labels ?? {}))
      .map(clone);
  }

  create(plural: string, namespace: string, object: KubeObject): KubeObject {
    const resource = this.resource(plural);
    const obj = clone(object);
    obj.apiVersion = resource.group
      ? `${resource.group}/${resource.version}`
      : resource.version;
    obj.kind = resource.kind;
    if (!obj.metadata?.name && obj.metadata?.generateName) {
      obj.metadata.name = `${obj.metadata.generateName}${randomUUID().slice(
        0,
        5,
      )}`;
    }
    if (!obj.metadata?.name) {
      throw new ApiError(
        422,
        'Invalid',
        `${resource.kind} "" is invalid: metadata.name: Required value`,
      );
    }
    const key = `${plural}/${namespace}/${obj.metadata.name}`;
    if (this.objects.has(key)) {
      throw new ApiError(
        409,
        'AlreadyExists',
        `${qualified(resource)} "${obj.metadata.name}" already exists`,
        { name: obj.metadata.name, group: resource.group, kind: plural },
      );
    }
    obj.metadata.namespace = namespace;
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = new Date().toISOString();
    obj.metadata.generation = 1;
    if (plural === 'secrets') writeStringData(obj);
    if (resource.status) obj.status = obj.status ?? {};
    return this.store(plural, key, obj, 'ADDED');
  }

  /**
   * Replaces an object (or, with `subresource: 'status'`, only its status);
   * a stale resourceVersion is a 409 Conflict.
   */
  replace(
    plural: string,
    namespace: string,
    name: string,
    object: KubeObject,
    subresource?: 'status',
  ): KubeObject {
    const resource = this.resource(plural);
    const key = `${plural}/${namespace}/${name}`;
    const current = this.objects.get(key);
    if (!current) throw this.notFound(resource, name);
    const rv = object.metadata?.resourceVersion;
    if (rv && rv !== current.metadata.resourceVersion) {
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualified(
          resource,
        )} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, group: resource.group, kind: plural },
      );
    }
    const next = clone(current);
    if (subresource === 'status') {
      next.status = clone(object.status);
    } else {
      const { status: _ignored, ...rest } = clone(object) as any;
      Object.assign(next, rest, {
        apiVersion: current.apiVersion,
        kind: current.kind,
        metadata: {
          ...rest.metadata,
          name,
          namespace,
          uid: current.metadata.uid,
          creationTimestamp: current.metadata.creationTimestamp,
          deletionTimestamp: current.metadata.deletionTimestamp,
          generation: current.metadata.generation,
        },
      });
      if (plural === 'secrets') writeStringData(next);
      // The status subresource owns status: a write of the object leaves it.
      if (!resource.status) next.status = rest.status;
      if (JSON.stringify(next.spec) !== JSON.stringify(current.spec)) {
        next.metadata.generation = (current.metadata.generation ?? 1) + 1;
      }
    }
    if (JSON.stringify(next) === JSON.stringify(current)) return clone(current);
    return this.store(plural, key, next, 'MODIFIED');
  }

  patch(
    plural: string,
    namespace: string,
    name: string,
    contentType: string,
    body: any,
    subresource?: 'status',
  ): KubeObject {
    const resource = this.resource(plural);
    const current = this.objects.get(`${plural}/${namespace}/${name}`);
    if (!current) throw this.notFound(resource, name);
    let patched: any;
    if (contentType.startsWith('application/merge-patch+json')) {
      patched = mergePatch(current, body);
    } else if (contentType.startsWith('application/json-patch+json')) {
      patched = jsonPatch(current, body);
    } else {
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        `the fake API server does not implement ${contentType}; the runtime sends merge and JSON patches`,
      );
    }
    patched.metadata.resourceVersion = current.metadata.resourceVersion;
    return this.replace(plural, namespace, name, patched, subresource);
  }

  /**
   * Deletes with the API server's semantics: pods with a grace period stay
   * (terminating) until the kubelet removes them; `Foreground` keeps the
   * owner until its dependents are gone; `Orphan` frees the dependents;
   * `Background` leaves them to the garbage collector.
   */
  delete(
    plural: string,
    namespace: string,
    name: string,
    options: { propagationPolicy?: string; gracePeriodSeconds?: number } = {},
  ): KubeObject {
    const resource = this.resource(plural);
    const key = `${plural}/${namespace}/${name}`;
    const current = this.objects.get(key);
    if (!current) throw this.notFound(resource, name);
    const policy =
      options.propagationPolicy ??
      (ORPHAN_BY_DEFAULT.has(plural) ? 'Orphan' : 'Background');
    const dependents = this.dependentsOf(current.metadata.uid!);
    if (policy === 'Orphan') {
      for (const d of dependents) {
        d.metadata.ownerReferences = d.metadata.ownerReferences?.filter(
          r => r.uid !== current.metadata.uid,
        );
        this.replaceRaw(d);
      }
    }
    const graceful = plural === 'pods' && options.gracePeriodSeconds !== 0;
    if ((policy === 'Foreground' && dependents.length > 0) || graceful) {
      const next = clone(current);
      next.metadata.deletionTimestamp ??= new Date().toISOString();
      if (policy === 'Foreground' && dependents.length > 0) {
        next.metadata.finalizers = [
          ...new Set([
            ...(next.metadata.finalizers ?? []),
            'foregroundDeletion',
          ]),
        ];
        for (const d of dependents) {
          this.delete(
            this.pluralOf(d.kind),
            d.metadata.namespace!,
            d.metadata.name,
            {
              propagationPolicy: 'Foreground',
            },
          );
        }
      }
      return this.store(plural, key, next, 'MODIFIED');
    }
    this.objects.delete(key);
    this.emit({
      type: 'DELETED',
      resource: plural,
      object: clone(current),
      rv: ++this.rv,
    });
    this.finishForegroundDeletions();
    return clone(current);
  }

  /** Removes a terminating pod for good (the kubelet, once it stopped). */
  removePod(namespace: string, name: string): void {
    const key = `pods/${namespace}/${name}`;
    const current = this.objects.get(key);
    if (!current) return;
    this.objects.delete(key);
    this.emit({
      type: 'DELETED',
      resource: 'pods',
      object: clone(current),
      rv: ++this.rv,
    });
    this.finishForegroundDeletions();
  }

  /** Objects whose owner is gone (what the garbage collector deletes). */
  orphansOfDeletedOwners(): Array<{ plural: string; object: KubeObject }> {
    const uids = new Set([...this.objects.values()].map(o => o.metadata.uid));
    return [...this.objects.entries()]
      .filter(([, o]) =>
        (o.metadata.ownerReferences ?? []).some(r => !uids.has(r.uid)),
      )
      .map(([key, object]) => ({
        plural: key.split('/')[0],
        object: clone(object),
      }));
  }

  appendLog(
    namespace: string,
    pod: string,
    container: string,
    line: string,
  ): void {
    const key = `${namespace}/${pod}/${container}`;
    const entry = { time: new Date().toISOString(), line };
    let lines = this.logs.get(key);
    if (!lines) this.logs.set(key, (lines = []));
    lines.push(entry);
    for (const follower of this.logFollowers.get(key) ?? []) follower(entry);
  }

  // ---- internals ----

  private resource(plural: string): Resource {
    const resource = RESOURCES.find(r => r.plural === plural);
    if (!resource)
      throw new ApiError(
        404,
        'NotFound',
        `the server could not find the requested resource`,
      );
    return resource;
  }

  private pluralOf(kind: string): string {
    return RESOURCES.find(r => r.kind === kind)!.plural;
  }

  private notFound(resource: Resource, name: string) {
    return new ApiError(
      404,
      'NotFound',
      `${qualified(resource)} "${name}" not found`,
      {
        name,
        group: resource.group,
        kind: resource.plural,
      },
    );
  }

  private dependentsOf(uid: string): KubeObject[] {
    return [...this.objects.values()].filter(o =>
      (o.metadata.ownerReferences ?? []).some(r => r.uid === uid),
    );
  }

  private replaceRaw(object: KubeObject) {
    const key = `${this.pluralOf(object.kind)}/${object.metadata.namespace}/${
      object.metadata.name
    }`;
    this.store(this.pluralOf(object.kind), key, object, 'MODIFIED');
  }

  /** Owners waiting for their dependents (foregroundDeletion) go once those are gone. */
  private finishForegroundDeletions() {
    for (const [key, o] of [...this.objects.entries()]) {
      if (
        o.metadata.finalizers?.includes('foregroundDeletion') &&
        this.dependentsOf(o.metadata.uid!).length === 0
      ) {
        this.objects.delete(key);
        this.emit({
          type: 'DELETED',
          resource: key.split('/')[0],
          object: clone(o),
          rv: ++this.rv,
        });
      }
    }
  }

  private store(
    plural: string,
    key: string,
    obj: KubeObject,
    type: WatchEvent['type'],
  ) {
    obj.metadata.resourceVersion = String(++this.rv);
    this.objects.set(key, obj);
    this.emit({ type, resource: plural, object: clone(obj), rv: this.rv });
    return clone(obj);
  }

  private emit(event: WatchEvent) {
    event.object.metadata.resourceVersion = String(event.rv);
    this.history.push(event);
    for (const w of this.watchers) {
      if (
        w.resource === event.resource &&
        (!w.namespace || w.namespace === event.object.metadata.namespace) &&
        w.selector(event.object.metadata.labels ?? {})
      ) {
        w.res.write(
          `${JSON.stringify({ type: event.type, object: event.object })}\n`,
        );
      }
    }
    for (const listener of this.listeners) listener(event);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url!, 'http://fake');
    const contentType = req.headers['content-type'];
    const entry: FakeKubernetesApi['requests'][number] = {
      method: req.method!,
      path: url.pathname,
      query: url.search,
      contentType,
    };
    this.requests.push(entry);
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      if (req.headers.authorization !== `Bearer ${this.token}`) {
        throw new ApiError(401, 'Unauthorized', 'Unauthorized');
      }
      const discovery = this.discovery(url.pathname);
      if (discovery) {
        send(200, discovery);
        return;
      }
      const m =
        /^\/(?:api\/v1|apis\/([\w.]+)\/(v\w+))\/namespaces\/([\w.-]+)\/([\w]+)(?:\/([\w.-]+))?(?:\/(status|log))?$/.exec(
          url.pathname,
        );
      if (!m)
        throw new ApiError(
          404,
          'NotFound',
          'the server could not find the requested resource',
        );
      const [, , , namespace, plural, name, sub] = m;
      this.resource(plural);
      const body = await readBody(req);
      entry.body = body;
      const method = req.method!;
      if (sub === 'log') {
        this.serveLog(namespace, name!, url, res);
        return;
      }
      if (!name && method === 'GET') {
        if (url.searchParams.get('watch') === 'true') {
          this.serveWatch(plural, namespace, url, res);
          return;
        }
        send(200, {
          kind: `${this.resource(plural).kind}List`,
          apiVersion: this.resource(plural).group
            ? `${this.resource(plural).group}/${this.resource(plural).version}`
            : 'v1',
          metadata: { resourceVersion: String(this.rv) },
          items: this.list(
            plural,
            namespace,
            url.searchParams.get('labelSelector') ?? undefined,
          ),
        });
        return;
      }
      if (!name && method === 'POST') {
        send(201, this.create(plural, namespace, body));
        return;
      }
      if (!name)
        throw new ApiError(
          405,
          'MethodNotAllowed',
          `${method} is not supported here`,
        );
      if (method === 'GET') {
        const found = this.get(plural, namespace, name);
        if (!found) throw this.notFound(this.resource(plural), name);
        send(200, found);
      } else if (method === 'PUT') {
        send(
          200,
          this.replace(
            plural,
            namespace,
            name,
            body,
            sub as 'status' | undefined,
          ),
        );
      } else if (method === 'PATCH') {
        send(
          200,
          this.patch(
            plural,
            namespace,
            name,
            contentType ?? '',
            body,
            sub as 'status' | undefined,
          ),
        );
      } else if (method === 'DELETE') {
        const grace =
          url.searchParams.get('gracePeriodSeconds') ??
          body?.gracePeriodSeconds;
        const deleted = this.delete(plural, namespace, name, {
          propagationPolicy:
            url.searchParams.get('propagationPolicy') ??
            body?.propagationPolicy ??
            undefined,
          gracePeriodSeconds:
            grace === undefined || grace === null ? undefined : Number(grace),
        });
        send(200, deleted);
      } else {
        throw new ApiError(
          405,
          'MethodNotAllowed',
          `${method} is not supported here`,
        );
      }
    } catch (error) {
      if (error instanceof ApiError) {
        send(
          error.code,
          status(error.code, error.reason, error.message, error.details),
        );
      } else {
        send(500, status(500, 'InternalError', String(error)));
      }
    }
  }

  private discovery(pathname: string) {
    if (pathname === '/api') return { kind: 'APIVersions', versions: ['v1'] };
    if (pathname === '/apis') {
      return {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [
          ...new Set(
            RESOURCES.filter(r => r.group).map(r => `${r.group}/${r.version}`),
          ),
        ].map(gv => ({
          name: gv.split('/')[0],
          versions: [{ groupVersion: gv, version: gv.split('/')[1] }],
          preferredVersion: { groupVersion: gv, version: gv.split('/')[1] },
        })),
      };
    }
    const m = /^\/(?:api\/(v1)|apis\/([\w.]+)\/(v\w+))$/.exec(pathname);
    if (!m) return undefined;
    const group = m[2] ?? '';
    const version = m[1] ?? m[3];
    const resources = RESOURCES.filter(
      r => r.group === group && r.version === version,
    );
    if (resources.length === 0) return undefined;
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group ? `${group}/${version}` : version,
      resources: resources.flatMap(r => [
        {
          name: r.plural,
          singularName: r.kind.toLowerCase(),
          namespaced: true,
          kind: r.kind,
          verbs: [
            'create',
            'delete',
            'get',
            'list',
            'patch',
            'update',
            'watch',
          ],
        },
        ...(r.status
          ? [
              {
                name: `${r.plural}/status`,
                singularName: '',
                namespaced: true,
                kind: r.kind,
                verbs: ['get', 'patch', 'update'],
              },
            ]
          : []),
      ]),
    };
  }

  private serveWatch(
    plural: string,
    namespace: string,
    url: URL,
    res: http.ServerResponse,
  ) {
    const selector = parseLabelSelector(
      url.searchParams.get('labelSelector') ?? undefined,
    );
    const from = url.searchParams.get('resourceVersion');
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Transfer-Encoding': 'chunked',
    });
    res.flushHeaders();
    const watcher: Watcher = { resource: plural, namespace, selector, res };
    const write = (type: string, object: unknown) =>
      res.write(`${JSON.stringify({ type, object })}\n`);
    if (from && from !== '0' && Number(from) < this.compactedRv) {
      write(
        'ERROR',
        status(
          410,
          'Expired',
          `too old resource version: ${from} (${this.compactedRv})`,
        ),
      );
      res.end();
      return;
    }
    if (!from || from === '0') {
      // "Get state and start at most recent": the current objects first.
      for (const o of this.list(plural, namespace)) {
        if (selector(o.metadata.labels ?? {})) write('ADDED', o);
      }
    } else {
      for (const e of this.history) {
        if (
          e.rv > Number(from) &&
          e.resource === plural &&
          e.object.metadata.namespace === namespace &&
          selector(e.object.metadata.labels ?? {})
        ) {
          write(e.type, e.object);
        }
      }
    }
    this.watchers.add(watcher);
    const timeout = Number(url.searchParams.get('timeoutSeconds') ?? 0);
    const timer = timeout
      ? setTimeout(() => res.end(), timeout * 1000)
      : undefined;
    res.on('close', () => {
      clearTimeout(timer);
      this.watchers.delete(watcher);
    });
  }

  private serveLog(
    namespace: string,
    name: string,
    url: URL,
    res: http.ServerResponse,
  ) {
    const pod = this.get('pods', namespace, name);
    if (!pod) throw this.notFound(this.resource('pods'), name);
    const containers: string[] = pod.spec.containers.map((c: any) => c.name);
    const container =
      url.searchParams.get('container') ??
      (containers.length === 1 ? containers[0] : undefined);
    if (!container) {
      throw new ApiError(
        400,
        'BadRequest',
        `a container name must be specified for pod ${name}, choose one of: [${containers.join(
          ' ',
        )}]`,
      );
    }
    const key = `${namespace}/${name}/${container}`;
    const timestamps = url.searchParams.get('timestamps') === 'true';
    const since = url.searchParams.get('sinceTime');
    const tail = url.searchParams.get('tailLines');
    const format = (e: { time: string; line: string }) =>
      `${timestamps ? `${e.time} ` : ''}${e.line}\n`;
    let lines = (this.logs.get(key) ?? []).filter(
      e => !since || e.time > since,
    );
    if (tail) lines = lines.slice(-Number(tail));
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.flushHeaders();
    for (const e of lines) res.write(format(e));
    if (url.searchParams.get('follow') !== 'true') {
      res.end();
      return;
    }
    let followers = this.logFollowers.get(key);
    if (!followers) this.logFollowers.set(key, (followers = new Set()));
    const follower = (e: { time: string; line: string }) =>
      res.write(format(e));
    followers.add(follower);
    res.on('close', () => followers!.delete(follower));
  }
}

/** Secrets' `stringData` is write-only: the API server merges it into `data`. */
function writeStringData(secret: KubeObject) {
  if (!secret.stringData) return;
  secret.data = {
    ...secret.data,
    ...Object.fromEntries(
      Object.entries(secret.stringData).map(([k, v]) => [
        k,
        Buffer.from(v).toString('base64'),
      ]),
    ),
  };
  delete secret.stringData;
}

async function readBody(req: http.IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  const text = Buffer.concat(chunks).toString();
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'BadRequest', 'the body is not JSON');
  }
}
