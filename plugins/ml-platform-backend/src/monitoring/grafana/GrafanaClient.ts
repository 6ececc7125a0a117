import { ResponseError } from '@backstage/errors';

/** A Grafana-managed alert rule as the provisioning API takes it. */
export interface GrafanaAlertRule {
  uid: string;
  title: string;
  condition: string;
  data: unknown[];
  folderUID: string;
  ruleGroup: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  noDataState: 'OK' | 'NoData' | 'Alerting';
  execErrState: 'OK' | 'Error' | 'Alerting';
  orgID?: number;
}

/** `mlPlatform.monitoring.grafana`. */
export interface GrafanaConfig {
  url: string;
  token: string;
  folderUid: string;
  /** The Prometheus datasource Grafana-managed rules query. */
  datasourceUid?: string;
  pushIntervalMs: number;
}

/**
 * The few Grafana HTTP API endpoints the platform uses, with a service
 * account token as bearer: dashboards by uid (`GET /api/dashboards/uid/…`,
 * `POST /api/dashboards/db`) and the alerting provisioning API
 * (`/api/v1/provisioning/alert-rules`, with `X-Disable-Provenance: true` so
 * the rules stay editable in Grafana's UI).
 */
export class GrafanaClient {
  private readonly baseUrl: string;

  constructor(
    private readonly config: Pick<GrafanaConfig, 'url' | 'token'>,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.baseUrl = config.url.replace(/\/+$/, '');
  }

  private async call(
    method: string,
    path: string,
    body?: unknown,
    allow: number[] = [],
  ): Promise<{ status: number; body: any }> {
    const response = await this.fetchImpl(`${this.baseUrl}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${this.config.token}`,
        Accept: 'application/json',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(path.startsWith('/api/v1/provisioning/')
          ? { 'X-Disable-Provenance': 'true' }
          : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    if (!response.ok && !allow.includes(response.status)) {
      throw await ResponseError.fromResponse(response);
    }
    const text = await response.text();
    return {
      status: response.status,
      body: text ? JSON.parse(text) : undefined,
    };
  }

  /** The dashboard JSON stored under `uid`, or undefined. */
  async getDashboard(uid: string): Promise<Record<string, any> | undefined> {
    const r = await this.call(
      'GET',
      `/api/dashboards/uid/${encodeURIComponent(uid)}`,
      undefined,
      [404],
    );
    return r.status === 404 ? undefined : r.body.dashboard;
  }

  /** Creates or replaces a dashboard (overwrite: true); its URL and version. */
  async saveDashboard(
    dashboard: object,
    folderUid: string,
    message: string,
  ): Promise<{ url: string; version: number }> {
    const r = await this.call('POST', '/api/dashboards/db', {
      dashboard: { ...dashboard, id: null },
      folderUid,
      overwrite: true,
      message,
    });
    return { url: r.body.url, version: r.body.version };
  }

  async listAlertRules(): Promise<GrafanaAlertRule[]> {
    return (await this.call('GET', '/api/v1/provisioning/alert-rules')).body;
  }

  async createAlertRule(rule: GrafanaAlertRule): Promise<void> {
    await this.call('POST', '/api/v1/provisioning/alert-rules', rule);
  }

  async updateAlertRule(rule: GrafanaAlertRule): Promise<void> {
    await this.call(
      'PUT',
      `/api/v1/provisioning/alert-rules/${encodeURIComponent(rule.uid)}`,
      rule,
    );
  }

  async deleteAlertRule(uid: string): Promise<void> {
    await this.call(
      'DELETE',
      `/api/v1/provisioning/alert-rules/${encodeURIComponent(uid)}`,
      undefined,
      [404],
    );
  }
}
