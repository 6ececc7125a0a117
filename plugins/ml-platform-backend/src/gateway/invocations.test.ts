import {
  mockCredentials,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { mockServices } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { mlPlatformPlugin } from '../plugin';
import { TestDataPlane } from '../__testUtils__/dataPlane';
import {
  churnExpected,
  churnV2Body,
  mlModelComponent,
} from '../__testUtils__/churnReference';
import { ModelRepository, waitFor } from '../__testUtils__/modelRepository';
import { api, deployOnline } from '../__testUtils__/platformApi';

jest.setTimeout(120_000);

const expected = churnExpected();
const rows = expected.map(e => e.input);

describe('invocations: the data plane and the plugin routes answer alike', () => {
  let repo: ModelRepository;
  let dataDir: string;
  let server: any;
  let stop: () => Promise<void>;
  const dataPlane = new TestDataPlane();

  beforeAll(async () => {
    repo = await ModelRepository.create({ churn: 'churn' });
    dataDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-invoke-'));
    const backend = await startTestBackend({
      features: [
        mlPlatformPlugin,
        dataPlane.factory,
        catalogServiceMock.factory({
          entities: [mlModelComponent('churn')],
        }),
        mockServices.rootConfig.factory({
          data: {
            mlPlatform: {
              dataDir,
              // Test repositories are local: under the git root, as the policy wants.
              git: { root: repo.root },
              builds: { pollInterval: 0 },
              gateway: { maxBodyBytes: 8 * 1024 },
              monitoring: {
                flushInterval: 100,
                scrape: { allowUnauthenticated: true },
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
    await stop?.();
    await repo?.remove();
    await fs.promises.rm(dataDir, { recursive: true, force: true });
  });

  /** The same calls, answered as the caller sees them. */
  async function calls() {
    const answers: Record<string, { status: number; body: unknown }> = {};
    const call = async (
      name: string,
      url: string,
      body: string,
      headers: Record<string, string> = {},
    ) => {
      const res = await request(server)
        .post(api(url))
        .set({ 'Content-Type': 'application/json', ...headers })
        .send(body);
      answers[name] = { status: res.status, body: res.body };
    };
    await call(
      'records',
      '/models/default/churn/predict',
      JSON.stringify({ dataframe_records: rows }),
    );
    await call(
      'v2',
      '/v2/models/churn/infer',
      JSON.stringify(churnV2Body(rows)),
    );
    await call('modelError', '/models/default/churn/predict', '{"x": 1}');
    await call('unknownModel', '/v2/models/nope/infer', '{}');
    await call('unknownNamespace', '/models/other/churn/predict', '{}');
    await call(
      'tooLarge',
      '/models/default/churn/predict',
      JSON.stringify({ dataframe_records: Array(200).fill(rows[0]) }),
    );
    await call('anonymous', '/v2/models/churn/infer', '{}', {
      Authorization: mockCredentials.none.header(),
    });
    await call(
      'service',
      '/models/default/churn/predict',
      JSON.stringify({ dataframe_records: rows.slice(0, 1) }),
      {
        Authorization: mockCredentials.service.header(),
      },
    );
    return answers;
  }

  it('gives the same answers both ways, and the right ones', async () => {
    dataPlane.enabled = true;
    const viaDataPlane = await calls();
    expect(dataPlane.served).toBe(8);
    dataPlane.enabled = false;
    const viaRoutes = await calls();
    expect(dataPlane.served).toBe(8);

    for (const answers of [viaDataPlane, viaRoutes]) {
      const { records, v2 } = answers as any;
      expect(records.status).toBe(200);
      expect(
        records.body.predictions.map((p: any) => p.churn_probability),
      ).toEqual(expected.map(e => expect.closeTo(e.churn_probability, 6)));
      expect(v2.status).toBe(200);
      expect(
        v2.body.outputs.find((o: any) => o.name === 'churn_probability').data,
      ).toEqual(expected.map(e => expect.closeTo(e.churn_probability, 6)));
      expect(answers.modelError.status).toBe(400);
      expect(answers.unknownModel).toMatchObject({
        status: 404,
        body: { error: { message: 'No model named nope' } },
      });
      expect(answers.unknownNamespace.status).toBe(404);
      expect(answers.tooLarge).toMatchObject({
        status: 413,
        body: {
          error: {
            name: 'PayloadTooLargeError',
            message: 'Request body is larger than 8192 bytes',
          },
        },
      });
      expect(answers.anonymous.status).toBe(401);
      expect(answers.service.status).toBe(200);
    }
    // Same statuses and errors (the routes' 401 comes from the plugin's
    // credentials barrier, before the route runs).
    const errors = (answers: typeof viaRoutes) =>
      Object.fromEntries(
        Object.entries(answers).map(([k, a]) => [
          k,
          [a.status, a.status >= 400 ? (a.body as any).error : undefined],
        ]),
      );
    expect(errors(viaDataPlane)).toEqual(errors(viaRoutes));
  });

  it('records every call that reached the deployment, on both paths', async () => {
    const exposed = async () => {
      const { text } = await request(server).get(api('/metrics')).expect(200);
      return {
        text,
        requests: [
          ...text.matchAll(/^ml_platform_model_requests_total\{.*\} (\d+)$/gm),
        ].reduce((n, m) => n + Number(m[1]), 0),
      };
    };
    const before = (await exposed()).requests;
    dataPlane.enabled = true;
    await calls();
    dataPlane.enabled = false;
    await calls();
    // Per pass: records, V2, the refused body (400), the one too large
    // (413) and the service call reached the model's deployment; unknown
    // models and the anonymous call (401) never do.
    const exposition = await exposed();
    expect(exposition.requests - before).toBe(10);
    for (const route of ['records', 'v2']) {
      expect(exposition.text).toMatch(
        new RegExp(
          `ml_platform_model_requests_total\\{[^}]*route="${route}",caller_kind="user",outcome="success"\\} [1-9]`,
        ),
      );
    }
    expect(exposition.text).toMatch(
      /ml_platform_model_requests_total\{[^}]*route="records",caller_kind="service",outcome="success"\} [1-9]/,
    );
    // The store has every call once the recorder flushed.
    const metrics = await waitFor(
      async () => {
        const m = (
          await request(server)
            .get(api('/models/default/churn/metrics?step=60'))
            .expect(200)
        ).body;
        return m.summary.requests === exposition.requests ? m : undefined;
      },
      { what: 'the recorded calls in the store', timeoutMs: 10_000 },
    );
    expect(metrics.source).toBe('embedded');
    const traffic = await request(server)
      .get(api('/models/traffic'))
      .expect(200);
    expect(traffic.body.items).toEqual([
      expect.objectContaining({
        ref: 'component:default/churn',
        requests: exposition.requests,
      }),
    ]);
  });
});
