import { mockServices } from '@backstage/backend-test-utils';
import { ModelAlertRule } from '@internal/plugin-ml-platform-common';
import { FakeGrafana } from '../../__testUtils__/fakeGrafana';
import { buildModelDashboard } from '../dashboards/modelDashboard';
import { GrafanaClient, GrafanaConfig } from './GrafanaClient';
import { GrafanaPusher, grafanaRuleUid } from './GrafanaPusher';

const MODEL = 'component:default/churn';
const errorRate: ModelAlertRule = {
  name: 'churn-error-rate',
  metric: 'error_rate',
  op: '>',
  threshold: 0.05,
  for: '5m',
  severity: 'critical',
  source: 'manifest',
};

describe('GrafanaPusher, against a server with Grafana API contract', () => {
  let grafana: FakeGrafana;
  let config: GrafanaConfig;
  let rules: ModelAlertRule[];
  let outputs: { name: string; type: string }[];

  const pusher = (token = 'sa-token') =>
    new GrafanaPusher({
      client: new GrafanaClient({ url: config.url, token }),
      config,
      logger: mockServices.logger.mock(),
      dashboards: {
        dashboardOf: async () =>
          buildModelDashboard({ namespace: 'default', name: 'churn', outputs }),
      },
      rules: {
        listModelRefs: async () => [MODEL],
        rulesOf: async () => rules,
      },
    });

  beforeEach(async () => {
    grafana = new FakeGrafana('sa-token');
    const url = await grafana.start();
    config = {
      url: `${url}/`,
      token: 'sa-token',
      folderUid: 'ml-models',
      datasourceUid: 'prom-1',
      pushIntervalMs: 60_000,
    };
    rules = [errorRate];
    outputs = [{ name: 'churn_probability', type: 'double' }];
  });

  afterEach(() => grafana.stop());

  it('pushes the dashboard with overwrite, and again only when it changed', async () => {
    expect(await pusher().pushAll()).toMatchObject({
      dashboardsSaved: 1,
      dashboardsUnchanged: 0,
    });
    const saves = () =>
      grafana.requests.filter(r => r.path === '/api/dashboards/db');
    expect(saves()).toHaveLength(1);
    expect(saves()[0].headers.authorization).toBe('Bearer sa-token');
    expect(saves()[0].body).toMatchObject({
      folderUid: 'ml-models',
      overwrite: true,
      dashboard: { uid: 'mlp-default-churn', id: null },
    });
    expect(grafana.dashboards.get('mlp-default-churn')!.version).toBe(1);

    // Nothing changed: read, not written.
    expect(await pusher().pushAll()).toMatchObject({
      dashboardsSaved: 0,
      dashboardsUnchanged: 1,
    });
    expect(saves()).toHaveLength(1);

    // The model's outputs changed: written again.
    outputs = [...outputs, { name: 'churn', type: 'boolean' }];
    expect(await pusher().pushAll()).toMatchObject({ dashboardsSaved: 1 });
    expect(grafana.dashboards.get('mlp-default-churn')!.version).toBe(2);

    // Someone edited it in Grafana (a newer version there): generated
    // dashboards are code, so the push overwrites rather than failing
    // with 412 version-mismatch.
    grafana.editInUi('mlp-default-churn', { title: 'Edited by hand' });
    expect(await pusher().pushAll()).toMatchObject({ dashboardsSaved: 1 });
    const stored = grafana.dashboards.get('mlp-default-churn')!;
    expect(stored.dashboard.title).toBe('ML model: churn');
    expect(stored.version).toBe(4);
    expect(saves().map(r => r.headers['content-type'])).toEqual(
      new Array(3).fill('application/json'),
    );
  });

  it('needs overwrite: without it, a stale version is a 412 version-mismatch, as in Grafana', async () => {
    await pusher().pushAll();
    grafana.editInUi('mlp-default-churn', { title: 'Edited by hand' });
    const response = await fetch(`${config.url}api/dashboards/db`, {
      method: 'POST',
      headers: {
        Authorization: 'Bearer sa-token',
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({
        dashboard: { uid: 'mlp-default-churn', title: 'x', version: 1 },
        folderUid: 'ml-models',
        overwrite: false,
      }),
    });
    expect(response.status).toBe(412);
    expect(await response.json()).toMatchObject({ status: 'version-mismatch' });
  });

  it('fails with Grafana’s answer when the token is refused, writing nothing', async () => {
    await expect(pusher('wrong').pushAll()).rejects.toMatchObject({
      name: 'ResponseError',
      statusCode: 401,
    });
    expect(grafana.dashboards.size).toBe(0);
  });

  it('keeps Grafana-managed alert rules in step: created, updated, deleted, editable, labelled model=<name>', async () => {
    await pusher().pushAll();
    const uid = grafanaRuleUid(MODEL, 'churn-error-rate');
    expect(uid.length).toBeLessThanOrEqual(40);
    const created = grafana.rules.get(uid)!;
    expect(created).toMatchObject({
      title: 'churn: churn-error-rate',
      folderUID: 'ml-models',
      ruleGroup: 'ml-platform default/churn',
      for: '5m',
      condition: 'B',
      labels: { model: 'churn', namespace: 'default', severity: 'critical' },
      // Sent with X-Disable-Provenance: true, so editable in Grafana's UI.
      provenance: '',
    });
    expect(created.data[0]).toMatchObject({
      refId: 'A',
      datasourceUid: 'prom-1',
      model: {
        expr: expect.stringContaining('ml_platform_model_requests_total'),
      },
    });
    expect(created.data[1].model).toMatchObject({
      type: 'math',
      expression: '$A > 0.05',
    });
    const ruleCalls = () =>
      grafana.requests.filter(r => r.path.startsWith('/api/v1/provisioning/'));
    expect(
      ruleCalls().every(r => r.headers['x-disable-provenance'] === 'true'),
    ).toBe(true);

    // Unchanged: listed, not written.
    const before = ruleCalls().length;
    expect(await pusher().pushAll()).toMatchObject({
      rulesCreated: 0,
      rulesUpdated: 0,
      rulesDeleted: 0,
    });
    expect(ruleCalls().length).toBe(before + 1);

    rules = [
      { ...errorRate, threshold: 0.1 },
      { ...errorRate, name: 'slow', metric: 'latency_p95', threshold: 0.5 },
    ];
    expect(await pusher().pushAll()).toMatchObject({
      rulesCreated: 1,
      rulesUpdated: 1,
    });
    expect(grafana.rules.get(uid)!.data[1].model.expression).toBe('$A > 0.1');

    rules = [];
    expect(await pusher().pushAll()).toMatchObject({ rulesDeleted: 2 });
    expect(grafana.rules.size).toBe(0);
  });

  it('pushes dashboards only when no datasource is named for rules', async () => {
    delete config.datasourceUid;
    await pusher().pushAll();
    expect(grafana.dashboards.size).toBe(1);
    expect(
      grafana.requests.filter(r => r.path.startsWith('/api/v1/provisioning/')),
    ).toEqual([]);
  });
});
