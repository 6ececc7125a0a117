import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import notificationsPlugin from '@backstage/plugin-notifications-backend';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { mlPlatformPlugin } from '../../plugin';
import {
  AlertmanagerServer,
  haveAlertingBinaries,
  promtoolCheckRules,
} from '../../__testUtils__/alertmanager';
import {
  churnExpected,
  mlModelComponent,
} from '../../__testUtils__/churnReference';
import { TestDataPlane } from '../../__testUtils__/dataPlane';
import { ModelRepository, waitFor } from '../../__testUtils__/modelRepository';
import { dataScienceTeam } from '../../__testUtils__/owners';
import { api, deployOnline } from '../../__testUtils__/platformApi';
import { PrometheusServer, freePort } from '../../__testUtils__/prometheus';
import { PrometheusMetricsSource } from '../query/PrometheusMetricsSource';
import { measureRules } from './alertMetrics';
import { ManifestAlertRule } from '@internal/plugin-ml-platform-common';

jest.setTimeout(180_000);

const WEBHOOK_TOKEN = 'pipeline-webhook-token';
const ADA = mockCredentials.user.header('user:default/ada');
const rows = churnExpected().map(e => e.input);

/** One rule per kind of metric, none of which the test's traffic trips… */
const QUIET_RULES = [
  { name: 'slow', metric: 'latency_p95', op: '>', threshold: 100 },
  { name: 'tail', metric: 'latency_p99', op: '>', threshold: 100 },
  { name: 'flood', metric: 'requests_per_second', op: '>', threshold: 1e6 },
  { name: 'mean', metric: 'prediction_mean', op: '>', threshold: 1000 },
  {
    name: 'drift',
    metric: 'prediction_drift',
    output: 'churn',
    op: '>',
    threshold: 1,
  },
  { name: 'revenue', metric: 'revenue_at_risk', op: '>', threshold: 1e9 },
];
/** …and the one an error burst fires at once. */
const BURST_RULE = {
  name: 'error-burst',
  metric: 'error_rate',
  op: '>',
  threshold: 0.3,
  for: '0s',
  severity: 'critical',
};

/**
 * The alerting pipeline for installations with their own stack, with the
 * real programs: Debian's Prometheus loads the rule file the platform
 * exports and scrapes the backend, Debian's Alertmanager routes the alert
 * to the platform's webhook, and the model's owner gets a notification
 * from an error burst on a deployed churn model. The generated dashboard's
 * every expression runs on that Prometheus against the real scrape.
 */
const alertingBinaries = haveAlertingBinaries();
// .ci/run installs them: in CI a missing program fails the suite, never skips it.
if (!alertingBinaries && process.env.CI) {
  throw new Error(
    'prometheus, promtool and prometheus-alertmanager are needed (apt-get install prometheus prometheus-alertmanager)',
  );
}

(alertingBinaries ? describe : describe.skip)(
  'alerting with a real Prometheus and Alertmanager',
  () => {
    let repo: ModelRepository;
    let dir: string;
    let server: any;
    let stop: () => Promise<void>;
    let prometheus: PrometheusServer;
    let alertmanager: AlertmanagerServer;
    const dataPlane = new TestDataPlane();
    const scrapeToken = mockCredentials.service.token();

    beforeAll(async () => {
      repo = await ModelRepository.create({ churn: 'churn' });
      dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-alerting-'));
      const backend = await startTestBackend({
        features: [
          mlPlatformPlugin,
          notificationsPlugin,
          dataPlane.factory,
          catalogServiceMock.factory({
            entities: [mlModelComponent('churn'), ...dataScienceTeam()],
          }),
          mockServices.rootConfig.factory({
            data: {
              app: { baseUrl: 'http://localhost:3000' },
              mlPlatform: {
                dataDir: path.join(dir, 'data'),
                git: { root: repo.root },
                builds: { pollInterval: 0 },
                monitoring: {
                  flushInterval: 200,
                  // Prometheus evaluates the rules here.
                  alerts: { enabled: false },
                  alertmanager: { token: WEBHOOK_TOKEN },
                },
              },
            },
          }),
        ],
      });
      server = backend.server;
      dataPlane.attach(backend.server);
      stop = () => backend.stop();

      await deployOnline(server, repo.url);
    });

    afterAll(async () => {
      await prometheus?.stop();
      await alertmanager?.stop();
      await stop?.();
      await repo?.remove();
      await fs.promises.rm(dir, { recursive: true, force: true });
    });

    it('exports rules promtool accepts; Prometheus and Alertmanager bring an error burst to the owner', async () => {
      await request(server)
        .put(api('/models/default/churn/alerts'))
        .send({ rules: [...QUIET_RULES, BURST_RULE] })
        .expect(200);
      const exported = await request(server)
        .get(api('/models/default/churn/alerts/prometheus-rules'))
        .expect(200);
      const ruleFile = path.join(dir, 'churn.rules.yml');
      await fs.promises.writeFile(ruleFile, exported.text);
      const check = promtoolCheckRules(ruleFile);
      expect(check.output).toMatch(/SUCCESS: 9 rules found/);
      expect(check.status).toBe(0);

      const backendAddress = `127.0.0.1:${server.address().port}`;
      const alertmanagerPort = await freePort();
      alertmanager = await AlertmanagerServer.start({
        port: alertmanagerPort,
        dir,
        config: `
route:
  receiver: ml-platform
  group_by: [alertname, model]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: ml-platform
    webhook_configs:
      - url: http://${backendAddress}/api/ml-platform/alerts/alertmanager
        send_resolved: true
        http_config:
          authorization: { credentials: '${WEBHOOK_TOKEN}' }
`,
      });
      prometheus = await PrometheusServer.start({
        port: await freePort(),
        dir,
        extraConfig: `rule_files: ['${ruleFile}']
alerting:
  alertmanagers:
    - static_configs: [{ targets: ['127.0.0.1:${alertmanagerPort}'] }]
`,
        scrapeConfigs: `
  - job_name: ml-platform
    metrics_path: /api/ml-platform/metrics
    authorization: { credentials: '${scrapeToken}' }
    static_configs: [{ targets: ['${backendAddress}'] }]
`,
      });

      // Traffic, then an error burst spread over several scrapes (a rate
      // needs two samples of the error series).
      const call = (body: unknown) =>
        request(server)
          .post(api('/models/default/churn/predict'))
          .set('Content-Type', 'application/json')
          .send(JSON.stringify(body));
      for (let i = 0; i < 5; i++) {
        expect((await call({ dataframe_records: rows })).status).toBe(200);
      }
      const notification = await waitFor(
        async () => {
          expect((await call({ not_a_shape: 1 })).status).toBe(400);
          const { notifications } = (
            await request(server)
              .get('/api/notifications/notifications')
              .set('Authorization', ADA)
          ).body;
          return notifications?.find((n: any) =>
            n.payload.title.startsWith('Alert error-burst of churn'),
          );
        },
        {
          what: 'the owner notification through Alertmanager',
          timeoutMs: 60_000,
          intervalMs: 250,
        },
      );
      expect(notification.payload).toMatchObject({
        title: 'Alert error-burst of churn is firing',
        severity: 'critical',
        description: expect.stringContaining('from Alertmanager'),
      });
      expect(notification.payload.link).toMatch(
        /^\/catalog\/default\/component\/churn\/ml-platform\?tab=monitoring&from=/,
      );
      const history = await request(server)
        .get(api('/models/default/churn/alerts/history'))
        .expect(200);
      expect(history.body.items[0]).toMatchObject({
        rule: 'error-burst',
        state: 'firing',
        source: 'alertmanager',
        notified: true,
      });

      // The embedded evaluator reads the same value from this Prometheus
      // when the metrics route's source is PromQL (prometheus.baseUrl).
      const measured = await measureRules(
        new PrometheusMetricsSource({ baseUrl: prometheus.url }),
        'component:default/churn',
        [{ ...BURST_RULE, op: '>' } as ManifestAlertRule],
        Date.now(),
      );
      expect(measured.get('error-burst')).toBeGreaterThan(0.3);

      // Every exported rule evaluates on Prometheus without an error.
      const rules = await (
        await fetch(`${prometheus.url}/api/v1/rules`)
      ).json();
      const loaded = rules.data.groups.flatMap((g: any) => g.rules);
      expect(loaded).toHaveLength(9);
      for (const rule of loaded) {
        expect({ rule: rule.name, health: rule.health }).toEqual({
          rule: rule.name,
          health: 'ok',
        });
      }
    });

    it('builds the dashboard on metrics the backend exports: every panel expression runs on the real scrape', async () => {
      const exposition = (
        await request(server).get(api('/metrics')).expect(200)
      ).text;
      const exported = new Set(
        exposition
          .split('\n')
          .filter(l => l && !l.startsWith('#'))
          .map(l => l.replace(/[{ ].*$/, '')),
      );
      const suffixes: Record<string, string[]> = {
        histogram: ['_bucket', '_sum', '_count'],
        summary: ['_sum', '_count', ''],
      };
      const declared = new Set(
        [...exposition.matchAll(/^# TYPE (\S+) (\w+)$/gm)].flatMap(
          ([, name, type]) =>
            (suffixes[type] ?? ['']).map(suffix => `${name}${suffix}`),
        ),
      );
      const dashboard = (
        await request(server)
          .get(api('/models/default/churn/dashboard'))
          .expect(200)
      ).body;
      const targets = dashboard.panels.flatMap((p: any) =>
        (p.targets ?? []).map((t: any) => ({ panel: p.title, expr: t.expr })),
      );
      expect(targets.length).toBeGreaterThan(10);
      // What this churn model's traffic exercises must have data too.
      const withData = [
        'Requests per second by version',
        'Latency p50 / p95 / p99',
        'Error ratio by class',
        'Distribution of churn_probability',
        'Predictions of churn per value',
      ];
      await waitFor(
        async () =>
          (
            await prometheus.query(
              'sum(ml_platform_model_predictions_total{model="churn"})',
            )
          ).length > 0,
        { what: 'Prometheus to scrape predictions', timeoutMs: 30_000 },
      );
      const problems: string[] = [];
      for (const { panel, expr } of targets) {
        const names = [...expr.matchAll(/\bml_platform_\w+/g)].map(m => m[0]);
        if (names.length === 0) problems.push(`${panel}: no metric`);
        for (const name of names) {
          // Every family is declared; all but the KPI summary (churn
          // returns no kpis) have samples.
          if (!declared.has(name))
            problems.push(`${panel}: ${name} undeclared`);
          if (
            !name.startsWith('ml_platform_model_kpi') &&
            !exported.has(name)
          ) {
            problems.push(`${panel}: no sample of ${name}`);
          }
        }
        const promql = expr
          .replace(/\$__rate_interval/g, '1m')
          .replace(/\$version/g, '.*');
        // A query Prometheus refuses throws here.
        const result = await prometheus.query(promql);
        if (withData.includes(panel) && result.length === 0) {
          problems.push(`${panel}: no series`);
        }
      }
      expect(problems).toEqual([]);
    });
  },
);
