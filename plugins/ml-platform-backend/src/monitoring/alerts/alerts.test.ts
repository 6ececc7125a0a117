import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import notificationsPlugin from '@backstage/plugin-notifications-backend';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { notificationService } from '@backstage/plugin-notifications-node';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import YAML from 'yaml';
import { mlPlatformPlugin } from '../../plugin';
import { mlModelComponent } from '../../__testUtils__/churnReference';
import { dataScienceTeam } from '../../__testUtils__/owners';
import { api } from '../../__testUtils__/platformApi';
import { FakeGrafana } from '../../__testUtils__/fakeGrafana';
import { waitFor } from '../../__testUtils__/modelRepository';
import { createDatabaseStores } from '../../database';
import { MetricsStore } from '../../database/metrics/MetricsStore';
import { CallRow, MINUTE } from '../../database/metrics/types';
import { ModelManifests } from '../ModelManifests';
import { EmbeddedMetricsSource } from '../query/EmbeddedMetricsSource';
import { AlertEvaluator } from './AlertEvaluator';
import { AlertNotifier } from './AlertNotifier';
import { AlertRules } from './AlertRules';

jest.setTimeout(60_000);

const MODEL = 'component:default/churn';
const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 3, 10, 0, 0);
const ADA = mockCredentials.user.header('user:default/ada');
const WEBHOOK_TOKEN = 'alertmanager-webhook-token';

const entities = [mlModelComponent('churn'), ...dataScienceTeam()];

/** One minute of calls of churn, `errors` of them answered 5xx. */
function calls(bucketStart: number, requests: number, errors: number): CallRow {
  const latencyBuckets = new Array(16).fill(0);
  latencyBuckets[4] = requests; // 5-10 ms
  return {
    resolution: MINUTE,
    bucketStart,
    modelRef: MODEL,
    deploymentId: 'd1',
    buildId: 'b1',
    version: 1,
    route: 'records',
    callerKind: 'user',
    requests,
    callerErrors: 0,
    modelErrors: errors,
    unavailable: 0,
    timeouts: 0,
    rows: requests - errors,
    latencySum: requests * 0.008,
    inFlightMax: 1,
    latencyBuckets,
  };
}

/**
 * Alert rules end to end: the manifest's rules and the API's, the embedded
 * evaluator run with a controllable clock on the real metrics store, and
 * the owner's notifications read back from the real notifications backend.
 */
describe('alerts', () => {
  let server: any;
  let stop: () => Promise<void>;
  let dir: string;
  let now = T0;
  let evaluator: AlertEvaluator;
  let metrics: MetricsStore;

  const notificationsOfAda = async () =>
    (
      await request(server)
        .get('/api/notifications/notifications?orderField=created,asc')
        .set('Authorization', ADA)
        .expect(200)
    ).body.notifications as { payload: any }[];

  const grafana = new FakeGrafana('grafana-sa-token');

  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-alerts-'));
    const grafanaUrl = await grafana.start();
    // Runs in the ml-platform plugin's scope: its database, its notifier.
    const underTest = createBackendModule({
      pluginId: 'ml-platform',
      moduleId: 'alerts-under-test',
      register(env) {
        env.registerInit({
          deps: {
            database: coreServices.database,
            auth: coreServices.auth,
            logger: coreServices.logger,
            notifications: notificationService,
          },
          async init(deps) {
            const stores = await createDatabaseStores(deps.database);
            metrics = stores.metrics;
            const alertStore = stores.alerts;
            await stores.models.upsertModel({ entityRef: MODEL });
            const build = await stores.builds.createBuild({
              modelRef: MODEL,
              trigger: 'api',
              steps: [],
            });
            await stores.builds.updateBuild(build.id, {
              status: 'succeeded',
              manifest: {
                apiVersion: 'ml-platform/v1',
                kind: 'Model',
                spec: {
                  runtime: 'python',
                  entrypoint: 'model:Model',
                  monitoring: {
                    alerts: [
                      {
                        name: 'churn-error-rate',
                        metric: 'error_rate',
                        op: '>',
                        threshold: 0.1,
                        for: '2m',
                        severity: 'critical',
                      },
                    ],
                  },
                },
              },
            });
            const clock = () => now;
            evaluator = new AlertEvaluator({
              rules: new AlertRules({
                store: alertStore,
                manifests: new ModelManifests({
                  listModels: () => stores.models.listModels(),
                  listBuilds: o => stores.builds.listBuilds(o),
                  getBuildManifest: id => stores.builds.getBuildManifest(id),
                }),
                models: undefined as never, // only rulesOf is used
                changes: undefined as never,
                evaluationIntervalMs: MIN,
                clock,
              }),
              store: alertStore,
              source: new EmbeddedMetricsSource(metrics, {
                rawRetentionMs: 2 * 86_400_000,
                clock,
              }),
              notifier: new AlertNotifier({
                auth: deps.auth,
                catalog: catalogServiceMock({ entities }),
                notifications: deps.notifications,
                logger: deps.logger,
              }),
              logger: deps.logger,
              clock,
            });
          },
        });
      },
    });
    const backend = await startTestBackend({
      features: [
        mlPlatformPlugin,
        underTest,
        notificationsPlugin,
        catalogServiceMock.factory({ entities }),
        // Scheduled tasks run once at startup, delayed ones too (the push).
        mockServices.scheduler.factory({
          includeInitialDelayedTasksOnStartup: true,
        }),
        mockServices.rootConfig.factory({
          data: {
            app: { baseUrl: 'http://localhost:3000' },
            mlPlatform: {
              dataDir: path.join(dir, 'data'),
              monitoring: {
                flushInterval: 200,
                // The test runs the evaluator itself, on its own clock.
                alerts: { enabled: false },
                alertmanager: { token: WEBHOOK_TOKEN },
                grafana: {
                  url: grafanaUrl,
                  token: 'grafana-sa-token',
                  folderUid: 'ml-models',
                  datasourceUid: 'prometheus',
                },
              },
            },
          },
        }),
      ],
    });
    server = backend.server;
    stop = () => backend.stop();
  });

  afterAll(async () => {
    await stop?.();
    await grafana.stop();
    await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('goes pending, fires after `for`, resolves, and tells the owner each time it fires and resolves', async () => {
    now = T0 + 30_000;
    await metrics.add({ calls: [calls(T0 - MIN, 100, 0)] });
    expect(await evaluator.evaluateAll()).toEqual([
      expect.objectContaining({
        rule: 'churn-error-rate',
        state: 'ok',
        value: 0,
      }),
    ]);

    // An error burst: half the calls fail.
    await metrics.add({ calls: [calls(T0, 100, 100)] });
    now = T0 + 50_000;
    const [pending] = await evaluator.evaluateAll();
    expect(pending).toMatchObject({ state: 'pending', changed: true });
    expect(pending.value).toBeCloseTo(0.5);
    expect(await notificationsOfAda()).toEqual([]);

    now = T0 + MIN + 50_000; // true for 1 minute: still pending
    await metrics.add({ calls: [calls(T0 + MIN, 100, 100)] });
    expect((await evaluator.evaluateAll())[0]).toMatchObject({
      state: 'pending',
      changed: false,
    });

    now = T0 + 2 * MIN + 50_000; // true for 2 minutes: fires
    await metrics.add({ calls: [calls(T0 + 2 * MIN, 100, 100)] });
    expect((await evaluator.evaluateAll())[0]).toMatchObject({
      state: 'firing',
      changed: true,
    });
    const fired = await notificationsOfAda();
    expect(fired).toHaveLength(1);
    expect(fired[0].payload).toMatchObject({
      title: 'Alert churn-error-rate of churn is firing',
      severity: 'critical',
      topic: `ml-platform:${MODEL}`,
    });
    expect(fired[0].payload.description).toMatch(
      /error_rate > 0\.1: the value is 0\.75/,
    );
    const link = new URL(fired[0].payload.link, 'http://portal');
    expect(link.pathname).toBe('/catalog/default/component/churn/ml-platform');
    expect(link.searchParams.get('tab')).toBe('monitoring');
    // The range opens before the alert started and ends after it fired.
    expect(Date.parse(link.searchParams.get('from')!)).toBeLessThan(T0);
    expect(Date.parse(link.searchParams.get('to')!)).toBeGreaterThan(now);

    // Firing stays firing without a second notification.
    now += 10_000;
    expect((await evaluator.evaluateAll())[0]).toMatchObject({
      state: 'firing',
      changed: false,
    });
    expect(await notificationsOfAda()).toHaveLength(1);

    // Calls succeed again; once the errors leave the window, it resolves.
    for (let m = 3; m <= 8; m++) {
      await metrics.add({ calls: [calls(T0 + m * MIN, 100, 0)] });
    }
    now = T0 + 8 * MIN + 30_000;
    expect((await evaluator.evaluateAll())[0]).toMatchObject({
      state: 'resolved',
      changed: true,
      value: 0,
    });
    const all = await notificationsOfAda();
    expect(all).toHaveLength(2);
    expect(all[1].payload).toMatchObject({
      title: 'Alert churn-error-rate of churn resolved',
      severity: 'low',
    });

    const rules = await request(server)
      .get(api('/models/default/churn/alerts'))
      .expect(200);
    expect(rules.body.items).toEqual([
      expect.objectContaining({
        name: 'churn-error-rate',
        source: 'manifest',
        state: 'resolved',
        since: new Date(now).toISOString(),
        value: 0,
      }),
    ]);
    const history = await request(server)
      .get(api('/models/default/churn/alerts/history'))
      .expect(200);
    expect(
      history.body.items.map((h: any) => [h.state, h.notified, h.source]),
    ).toEqual([
      ['resolved', true, 'evaluator'],
      ['firing', true, 'evaluator'],
      ['pending', false, 'evaluator'],
    ]);
  });

  it('keeps API rules beside the manifest, validated, and silences a rule for a while', async () => {
    const put = (body: object) =>
      request(server).put(api('/models/default/churn/alerts')).send(body);
    const bad: [object, RegExp][] = [
      [
        { rules: [{ name: 'x', metric: 'error_rate', op: '!', threshold: 1 }] },
        /body\.rules\[0\]\.op: expected >, >=, <, <= or ==/,
      ],
      [
        {
          rules: [
            { name: 'x', metric: 'error_rate', op: '>', threshold: 'high' },
          ],
        },
        /body\.rules\[0\]\.threshold: expected a number/,
      ],
      [
        {
          rules: [
            { name: 'x', metric: 'latency_p99_ms', op: '>', threshold: 1 },
          ],
        },
        /body\.rules\[0\]\.metric: expected one of error_rate/,
      ],
      [
        {
          rules: [
            {
              name: 'x',
              metric: 'error_rate',
              op: '>',
              threshold: 1,
              for: 'soon',
            },
          ],
        },
        /body\.rules\[0\]\.for: expected a duration/,
      ],
      [
        {
          rules: [
            { name: 'x', metric: 'error_rate', op: '>', threshold: 1 },
            { name: 'x', metric: 'error_rate', op: '>', threshold: 2 },
          ],
        },
        /body\.rules\[1\]\.name: another rule is named x/,
      ],
      [
        {
          rules: [{ name: '-x', metric: 'error_rate', op: '>', threshold: 1 }],
        },
        /body\.rules\[0\]\.name/,
      ],
      [{ rules: [], extra: 1 }, /extra/],
    ];
    for (const [body, message] of bad) {
      const res = await put(body);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(message);
    }
    await request(server)
      .put(api('/models/default/churn/alerts'))
      .set('Authorization', mockCredentials.none.header())
      .send({ rules: [] })
      .expect(401);

    const res = await put({
      rules: [
        {
          name: 'slow',
          metric: 'latency_p95',
          op: '>',
          threshold: 0.25,
          for: '5m',
        },
        {
          name: 'revenue',
          metric: 'revenue_at_risk',
          op: '>=',
          threshold: 1000,
          severity: 'info',
        },
        {
          name: 'churn-error-rate',
          metric: 'error_rate',
          op: '>',
          threshold: 0.2,
          for: '1m',
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(
      res.body.items.map((r: any) => [
        r.name,
        r.source,
        r.overridesManifest ?? false,
      ]),
    ).toEqual([
      ['slow', 'api', false],
      ['revenue', 'api', false],
      ['churn-error-rate', 'api', true],
    ]);
    // The manifest's rule is replaced, its state kept.
    expect(res.body.items[2]).toMatchObject({
      threshold: 0.2,
      state: 'resolved',
    });

    const silenced = await request(server)
      .post(api('/models/default/churn/alerts/slow/silence'))
      .send({ duration: '2h' })
      .expect(200);
    expect(Date.parse(silenced.body.silencedUntil)).toBeGreaterThan(
      Date.now() + 7000_000,
    );
    await request(server)
      .post(api('/models/default/churn/alerts/nope/silence'))
      .send({ duration: '2h' })
      .expect(404);
    const badSilence = await request(server)
      .post(api('/models/default/churn/alerts/slow/silence'))
      .send({ duration: 'forever' });
    expect(badSilence.status).toBe(400);
    expect(badSilence.body.error.message).toMatch(/body\.duration/);
    const lifted = await request(server)
      .delete(api('/models/default/churn/alerts/slow/silence'))
      .expect(200);
    expect(lifted.body.silencedUntil).toBeNull();

    const activity = await request(server)
      .get(api('/models/default/churn/activity'))
      .expect(200);
    expect(activity.body.items.map((a: any) => a.action)).toContain(
      'alert.update',
    );

    // Back to the manifest's rule alone.
    expect((await put({ rules: [] })).body.items).toEqual([
      expect.objectContaining({
        name: 'churn-error-rate',
        source: 'manifest',
        threshold: 0.1,
      }),
    ]);
  });

  it('exports the rules as a Prometheus rule file', async () => {
    const res = await request(server)
      .get(api('/models/default/churn/alerts/prometheus-rules'))
      .expect(200)
      .expect('Content-Type', /^application\/yaml/);
    const file = YAML.parse(res.text);
    expect(file.groups[0].rules[0]).toMatchObject({
      alert: 'churn-error-rate',
      for: '2m',
      labels: { model: 'churn', namespace: 'default', severity: 'critical' },
      annotations: {
        monitoring_url:
          'http://localhost:3000/catalog/default/component/churn/ml-platform?tab=monitoring',
      },
    });
    expect(file.groups[0].rules[0].expr).toBe(
      '(sum(rate(ml_platform_model_requests_total{namespace="default",model="churn",outcome!="success"}[5m])) / sum(rate(ml_platform_model_requests_total{namespace="default",model="churn"}[5m]))) > 0.1',
    );
  });

  it('turns Alertmanager notifications into owner notifications and history, once each, with its token only', async () => {
    const before = (await notificationsOfAda()).length;
    const alert = (status: string) => ({
      status,
      labels: {
        alertname: 'churn-error-rate',
        model: 'churn',
        namespace: 'default',
        severity: 'critical',
        ml_platform_rule: 'churn-error-rate',
      },
      annotations: {},
      startsAt: '2026-12-03T11:00:00Z',
      endsAt:
        status === 'resolved' ? '2026-12-03T11:05:00Z' : '0001-01-01T00:00:00Z',
    });
    const post = (body: object, token = WEBHOOK_TOKEN) =>
      request(server)
        .post(api('/alerts/alertmanager'))
        .set('Authorization', `Bearer ${token}`)
        .send(body);
    // The webhook is reached without Backstage credentials, never without its token.
    await request(server)
      .post(api('/alerts/alertmanager'))
      .set('Authorization', mockCredentials.none.header())
      .send({ alerts: [] })
      .expect(401);
    await post({ alerts: [] }, 'wrong').expect(401);
    const bad = await post({
      alerts: [{ status: 'maybe', labels: {}, startsAt: 'x' }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/body\.alerts\[0\]\.status/);

    const unknown = {
      ...alert('firing'),
      labels: { alertname: 'Other', model: 'x', namespace: 'default' },
    };
    expect(
      (
        await post({
          version: '4',
          status: 'firing',
          alerts: [alert('firing'), unknown],
        }).expect(200)
      ).body,
    ).toEqual({ accepted: 1, ignored: 1 });
    // Alertmanager repeats itself: counted once.
    expect(
      (await post({ alerts: [alert('firing')] }).expect(200)).body,
    ).toEqual({ accepted: 0, ignored: 0 });
    await post({ alerts: [alert('resolved')] }).expect(200);

    const notifications = await notificationsOfAda();
    expect(notifications.slice(before).map(n => n.payload.title)).toEqual([
      'Alert churn-error-rate of churn is firing',
      'Alert churn-error-rate of churn resolved',
    ]);
    const history = await request(server)
      .get(api('/models/default/churn/alerts/history?limit=2'))
      .expect(200);
    expect(
      history.body.items.map((h: any) => [h.state, h.source, h.at]),
    ).toEqual([
      ['resolved', 'alertmanager', '2026-12-03T11:05:00.000Z'],
      ['firing', 'alertmanager', '2026-12-03T11:00:00.000Z'],
    ]);
  });

  it('serves the dashboard JSON for download', async () => {
    const res = await request(server)
      .get(api('/models/default/churn/dashboard'))
      .expect(200)
      .expect(
        'Content-Disposition',
        'attachment; filename="mlp-default-churn.json"',
      );
    expect(res.body).toMatchObject({
      uid: 'mlp-default-churn',
      tags: expect.arrayContaining(['ml-model', 'ml-model:churn']),
    });
    await request(server)
      .get(api('/models/default/nope/dashboard'))
      .expect(404);
    await request(server)
      .get(api('/models/default/churn/dashboard'))
      .set('Authorization', mockCredentials.none.header())
      .expect(401);
  });

  it('pushes the dashboard and the rules to the configured Grafana from its scheduled task', async () => {
    await waitFor(
      async () =>
        grafana.dashboards.has('mlp-default-churn') && grafana.rules.size > 0,
      { what: 'the Grafana push task', timeoutMs: 30_000 },
    );
    const [rule] = [...grafana.rules.values()];
    expect(rule).toMatchObject({
      labels: { model: 'churn', severity: 'critical' },
      provenance: '',
    });
    // Where the Monitoring tab's link points.
    const res = await request(server)
      .get(api('/models/default/churn/dashboard'))
      .expect(200);
    expect(res.headers.link).toBe(
      `<${grafana.url}/d/mlp-default-churn>; rel="alternate"`,
    );
  });
});
