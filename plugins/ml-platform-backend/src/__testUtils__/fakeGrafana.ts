import http from 'node:http';
import { AddressInfo } from 'node:net';

/** A request the fake received. */
export interface GrafanaRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body?: any;
}

interface StoredDashboard {
  dashboard: Record<string, any>;
  folderUid: string;
  id: number;
  version: number;
}

const REQUIRED_RULE_FIELDS = [
  'title',
  'condition',
  'data',
  'folderUID',
  'ruleGroup',
  'for',
];

/**
 * A stand-in for the Grafana HTTP API endpoints the platform calls, as
 * Grafana documents them (Grafana itself cannot be installed here):
 *
 * - every call needs `Authorization: Bearer <token>`, else 401;
 * - `GET /api/dashboards/uid/:uid`: 200 `{dashboard, meta}` or 404;
 * - `POST /api/dashboards/db` `{dashboard, folderUid, overwrite, message}`:
 *   400 without a title or with an unknown folder; a dashboard of that uid
 *   whose version differs from the one sent is a 412 `version-mismatch`
 *   unless `overwrite` is true; a new title in the folder taken by another
 *   uid is a 412 `name-exists` (without overwrite); else 200 `{id, uid,
 *   url, status: "success", version, slug}`, the version counted up;
 * - `/api/v1/provisioning/alert-rules`: GET lists, POST creates (201; 400
 *   without a required field; 409 for a uid taken), `PUT /:uid` replaces
 *   (200, 404), `DELETE /:uid` (204). A rule written without
 *   `X-Disable-Provenance: true` gets provenance `api` (locked in the UI).
 */
export class FakeGrafana {
  readonly requests: GrafanaRequest[] = [];
  readonly dashboards = new Map<string, StoredDashboard>();
  readonly rules = new Map<string, Record<string, any>>();
  readonly folders = new Set<string>(['ml-models']);
  private nextId = 1;
  private server?: http.Server;
  /** Where it listens, once started. */
  url = '';

  constructor(readonly token: string) {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let text = '';
      req.on('data', chunk => (text += chunk));
      req.on('end', () => {
        const body = text ? JSON.parse(text) : undefined;
        const path = req.url!.split('?')[0];
        this.requests.push({
          method: req.method!,
          path,
          headers: req.headers,
          body,
        });
        const [status, answer] = this.handle(req, path, body);
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(answer === undefined ? '' : JSON.stringify(answer));
      });
    });
    await new Promise<void>(resolve =>
      this.server!.listen(0, '127.0.0.1', resolve),
    );
    this.url = `http://127.0.0.1:${
      (this.server.address() as AddressInfo).port
    }`;
    return this.url;
  }

  async stop() {
    await new Promise(resolve => this.server?.close(resolve));
  }

  /** What someone editing the dashboard in Grafana's UI does. */
  editInUi(uid: string, change: Record<string, unknown>) {
    const stored = this.dashboards.get(uid)!;
    stored.version++;
    stored.dashboard = {
      ...stored.dashboard,
      ...change,
      version: stored.version,
    };
  }

  private handle(
    req: http.IncomingMessage,
    path: string,
    body: any,
  ): [number, unknown] {
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return [401, { message: 'Unauthorized' }];
    }
    let match = /^\/api\/dashboards\/uid\/([^/]+)$/.exec(path);
    if (match && req.method === 'GET') {
      const stored = this.dashboards.get(decodeURIComponent(match[1]));
      if (!stored) return [404, { message: 'Dashboard not found' }];
      return [
        200,
        {
          dashboard: stored.dashboard,
          meta: { folderUid: stored.folderUid, version: stored.version },
        },
      ];
    }
    if (path === '/api/dashboards/db' && req.method === 'POST') {
      return this.saveDashboard(body);
    }
    if (path === '/api/v1/provisioning/alert-rules') {
      if (req.method === 'GET') return [200, [...this.rules.values()]];
      if (req.method === 'POST') {
        const missing = REQUIRED_RULE_FIELDS.find(f => body?.[f] === undefined);
        if (missing)
          return [400, { message: `invalid rule: ${missing} is required` }];
        if (this.rules.has(body.uid))
          return [409, { message: 'rule uid taken' }];
        const rule = {
          ...body,
          id: this.nextId++,
          provenance: this.provenance(req),
        };
        this.rules.set(body.uid, rule);
        return [201, rule];
      }
    }
    match = /^\/api\/v1\/provisioning\/alert-rules\/([^/]+)$/.exec(path);
    if (match) {
      const uid = decodeURIComponent(match[1]);
      if (!this.rules.has(uid)) return [404, { message: 'rule not found' }];
      if (req.method === 'PUT') {
        const rule = {
          ...this.rules.get(uid),
          ...body,
          uid,
          provenance: this.provenance(req),
        };
        this.rules.set(uid, rule);
        return [200, rule];
      }
      if (req.method === 'DELETE') {
        this.rules.delete(uid);
        return [204, undefined];
      }
    }
    return [404, { message: 'Not found' }];
  }

  private provenance(req: http.IncomingMessage) {
    return req.headers['x-disable-provenance'] === 'true' ? '' : 'api';
  }

  private saveDashboard(body: any): [number, unknown] {
    const dashboard = body?.dashboard;
    if (!dashboard?.title) {
      return [400, { message: 'Dashboard title cannot be empty' }];
    }
    if (body.folderUid && !this.folders.has(body.folderUid)) {
      return [400, { message: 'folder not found' }];
    }
    const existing = this.dashboards.get(dashboard.uid);
    if (!body.overwrite) {
      if (existing && dashboard.version !== existing.version) {
        return [
          412,
          {
            status: 'version-mismatch',
            message: 'The dashboard has been changed by someone else',
          },
        ];
      }
      const sameTitle = [...this.dashboards.values()].find(
        d =>
          d.dashboard.title === dashboard.title &&
          d.folderUid === body.folderUid &&
          d.dashboard.uid !== dashboard.uid,
      );
      if (sameTitle) {
        return [
          412,
          {
            status: 'name-exists',
            message:
              'A dashboard with the same name in the folder already exists',
          },
        ];
      }
    }
    const version = (existing?.version ?? 0) + 1;
    const id = existing?.id ?? this.nextId++;
    this.dashboards.set(dashboard.uid, {
      dashboard: { ...dashboard, id, version },
      folderUid: body.folderUid,
      id,
      version,
    });
    const slug = String(dashboard.title)
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-');
    return [
      200,
      {
        id,
        uid: dashboard.uid,
        url: `/d/${dashboard.uid}/${slug}`,
        status: 'success',
        version,
        slug,
      },
    ];
  }
}
