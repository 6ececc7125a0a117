import {
  TestDatabases,
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { ModelMetrics } from '@internal/plugin-ml-platform-common';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { mlPlatformPlugin } from '../plugin';
import {
  churnExpected,
  churnV2Body,
  mlModelComponent,
} from '../__testUtils__/churnReference';
import { TestDataPlane } from '../__testUtils__/dataPlane';
import { ModelRepository, waitFor } from '../__testUtils__/modelRepository';
import { api, buildModel } from '../__testUtils__/platformApi';
import {
  PrometheusServer,
  freePort,
  promtoolCheckMetrics,
} from '../__testUtils__/prometheus';
import { DatabaseMetricsStore } from '../database/metrics/DatabaseMetricsStore';
import { EmbeddedMetricsSource } from './query/EmbeddedMetricsSource';

jest.setTimeout(180_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
const rows = churnExpected().map(e => e.input);

/**
 * The real pipeline: a churn build deployed on the local runtime, calls
 * through the gateway, Debian's Prometheus scraping the backend's
 * exposition and (found through `runtime/scrape-targets`) the replica's own
 * `/metrics`, and the metrics route answering from PromQL.
 */
describe('monitoring with a real Prometheus', () => {
  let repo: ModelRepository;
  let dir: string;
  let server: any;
  let stop: () => Promise<void>;
  let prometheus: PrometheusServer;
  let store: DatabaseMetricsStore;
  let replicaUrl: string;
  const dataPlane = new TestDataPlane();
  const scrapeToken = mockCredentials.service.token();

  beforeAll(async () => {
    repo = await ModelRepository.create({ churn: 'churn' });
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-prom-'));
    const knex = await databases.init('SQLITE_3');
    const prometheusPort = await freePort();
    const backend = await startTestBackend({
      features: [
        mlPlatformPlugin,
        dataPlane.factory,
        mockServices.database.factory({ knex }),
        catalogServiceMock.factory({ entities: [mlModelComponent('churn')] }),
        mockServices.rootConfig.factory({
          data: {
            mlPlatform: {
              dataDir: path.join(dir, 'data'),
              // Test repositories are local: under the git root, as the policy wants.
              git: { root: repo.root },
              builds: { pollInterval: 0 },
              monitoring: {
                flushInterval: 200,
                prometheus: { baseUrl: `http://127.0.0.1:${prometheusPort}` },
              },
            },
          },
        }),
      ],
    });
    server = backend.server;
    dataPlane.attach(backend.server);
    stop = () => backend.stop();
    // The backend migrated the database.
    store = new DatabaseMetricsStore(knex);

    await request(server)
      .post(api('/models/default/churn/register'))
      .send({ gitUrl: repo.url, gitPath: 'churn', defaultBranch: 'main' })
      .expect(200);
    const build = await buildModel(server, 'churn');
    const deployment = await request(server)
      .post(api('/models/default/churn/deployments'))
      .send({ buildId: build.id, type: 'online', replicas: 1 });
    const ready = await waitFor(
      async () => {
        const d = (
          await request(server).get(api(`/deployments/${deployment.body.id}`))
        ).body;
        return d.status === 'ready' ? d : undefined;
      },
      { what: 'the deployment', timeoutMs: 60_000 },
    );
    replicaUrl = ready.replicaStatus[0].url;

    const backendAddress = `127.0.0.1:${server.address().port}`;
    prometheus = await PrometheusServer.start({
      port: prometheusPort,
      dir,
      scrapeConfigs: `
  - job_name: ml-platform
    metrics_path: /api/ml-platform/metrics
    authorization: { credentials: '${scrapeToken}' }
    static_configs: [{ targets: ['${backendAddress}'] }]
  - job_name: ml-platform-replicas
    authorization: { credentials: '${scrapeToken}' }
    http_sd_configs:
      - url: http://${backendAddress}/api/ml-platform/runtime/scrape-targets
        refresh_interval: 1s
        authorization: { credentials: '${scrapeToken}' }
`,
    });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await stop?.();
    await repo?.remove();
    await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('lists the replicas as HTTP SD targets, only with credentials', async () => {
    await request(server)
      .get(api('/runtime/scrape-targets'))
      .set('Authorization', mockCredentials.none.header())
      .expect(401);
    const { body } = await request(server)
      .get(api('/runtime/scrape-targets'))
      .expect(200);
    expect(body).toEqual([
      {
        targets: [new URL(replicaUrl).host],
        labels: expect.objectContaining({
          __metrics_path__: '/metrics',
          namespace: 'default',
          model: 'churn',
          version: '1',
        }),
      },
    ]);
  });

  it('answers from PromQL the counts the embedded store holds', async () => {
    const started = Date.now();
    const call = (url: string, body: unknown) =>
      request(server)
        .post(api(url))
        .set('Content-Type', 'application/json')
        .send(JSON.stringify(body));
    for (let i = 0; i < 12; i++) {
      await call('/models/default/churn/predict', { dataframe_records: rows });
      await call('/v2/models/churn/infer', churnV2Body(rows.slice(0, 2)));
    }
    for (let i = 0; i < 5; i++) {
      expect(
        (await call('/models/default/churn/predict', { x: 1 })).status,
      ).toBe(400);
    }
    const total = 12 * 2 + 5;

    // Prometheus has scraped every call, and the recorder has flushed them.
    await waitFor(
      async () =>
        Number(
          (
            await prometheus.query(`sum(ml_platform_model_requests_total)`)
          )[0]?.value[1],
        ) === total,
      { what: `Prometheus to count ${total} calls`, timeoutMs: 30_000 },
    );
    const query = `from=${Math.floor(started / 1000) - 120}&step=60`;
    const embedded = await waitFor(
      async () => {
        const read = await new EmbeddedMetricsSource(store, {
          rawRetentionMs: 2 * 86_400_000,
        }).read({
          modelRef: 'component:default/churn',
          from: (Math.floor(started / 60_000) - 2) * 60_000,
          stepMs: 60_000,
          steps: Math.ceil((Date.now() - started) / 60_000) + 3,
        });
        const metrics = read.toModelMetrics('embedded');
        return metrics.summary.requests === total ? metrics : undefined;
      },
      { what: 'the embedded store to hold every call' },
    );
    const fromPromQl: ModelMetrics = (
      await request(server)
        .get(api(`/models/default/churn/metrics?${query}`))
        .expect(200)
    ).body;

    expect(fromPromQl.source).toBe('prometheus');
    expect(fromPromQl.summary).toMatchObject({
      requests: total,
      errors: 5,
      rows: embedded.summary.rows,
    });
    expect(embedded.summary).toMatchObject({
      requests: total,
      errors: 5,
      rows: 12 * rows.length + 12 * 2,
    });
    expect(fromPromQl.versions).toEqual([1]);
    const perVersion = (m: ModelMetrics) =>
      m.requestsPerSecond[0].values.reduce((n: number, v) => n + (v ?? 0), 0) *
      m.stepSeconds;
    expect(Math.round(perVersion(fromPromQl))).toBe(total);
    const probabilities = (m: ModelMetrics) =>
      m.predictions.find(p => p.output === 'churn_probability')!.currentTotal;
    expect(probabilities(fromPromQl)).toBe(probabilities(embedded));
    expect(probabilities(fromPromQl)).toBe(12 * rows.length + 12 * 2);
    // Latency percentiles come from the same histogram buckets.
    expect(fromPromQl.summary.latencyP95).toBeCloseTo(
      embedded.summary.latencyP95!,
      6,
    );
  });

  it('scrapes the replica directly, labelled from the scrape targets', async () => {
    const replicas = await waitFor(
      async () => {
        const result = await prometheus.query(
          'up{job="ml-platform-replicas",model="churn",version="1"}',
        );
        return result.length === 1 && result[0].value[1] === '1'
          ? result
          : undefined;
      },
      { what: 'Prometheus to scrape the replica', timeoutMs: 30_000 },
    );
    expect(replicas[0].metric.namespace).toBe('default');
    expect(
      await prometheus.query('mlp_requests_total{job="ml-platform-replicas"}'),
    ).not.toHaveLength(0);
    const backend = (await prometheus.targets()).find(
      t => t.labels.job === 'ml-platform',
    );
    expect(backend).toMatchObject({ health: 'up', lastError: '' });
  });

  it('passes promtool check metrics, the backend and the replica alike', async () => {
    const exposition = await request(server)
      .get(api('/metrics'))
      .expect(200)
      .expect('Content-Type', /^text\/plain; version=0\.0\.4; charset=utf-8$/);
    expect(exposition.text).toContain('ml_platform_model_requests_total{');
    expect(exposition.text).toContain('ml_platform_replica_ready{');
    expect(promtoolCheckMetrics(exposition.text)).toEqual({
      status: 0,
      output: '',
    });
    const replica = await (await fetch(`${replicaUrl}/metrics`)).text();
    expect(promtoolCheckMetrics(replica)).toEqual({ status: 0, output: '' });
    await request(server)
      .get(api('/metrics'))
      .set('Authorization', mockCredentials.none.header())
      .expect(401);
  });

  it('refuses bad ranges with a 400 naming the field, and unknown models with a 404', async () => {
    const get = (query: string) =>
      request(server).get(api(`/models/default/churn/metrics?${query}`));
    const cases: [string, RegExp][] = [
      ['step=1s', /query\.step: expected a duration of at least 10s/],
      [
        'from=yesterday',
        /query\.from: expected an RFC 3339 time or Unix seconds/,
      ],
      ['from=2000&to=1000', /query\.from: expected a time before query\.to/],
      ['from=0', /query\.from: the range is longer than 400 days/],
      [
        `from=${Math.floor(Date.now() / 1000) - 30 * 86400}&step=60`,
        /query\.step: \d+ steps over the range; at most 5000/,
      ],
      ['version=latest', /query\.version: expected a build version number/],
      ['colour=red', /colour/],
    ];
    for (const [query, message] of cases) {
      const res = await get(query);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(message);
    }
    await request(server).get(api('/models/default/nope/metrics')).expect(404);
    // The ML Platform page's traffic, read from Prometheus too.
    const traffic = await request(server).get(api('/models/traffic?window=1h'));
    expect(traffic.status).toBe(200);
    expect(traffic.body.items).toEqual([
      expect.objectContaining({ ref: 'component:default/churn' }),
    ]);
    expect(traffic.body.items[0].requests).toBe(29);
  });
});
