import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { mlPlatformPlugin } from '../../plugin';
import {
  churnExpected,
  churnV2Body,
  mlModelComponent,
} from '../../__testUtils__/churnReference';
import { ModelRepository, waitFor } from '../../__testUtils__/modelRepository';
import { freePort } from '../../__testUtils__/prometheus';
import { api, deployOnline } from '../../__testUtils__/platformApi';
import { describeWithNginx as describeNginx } from '../../__testUtils__/nginx';
import { LoggedCall, parseCallLog } from './CallLog';

jest.setTimeout(120_000);

const describeWithNginx = describeNginx();

const expected = churnExpected();
const rows = expected.map(e => e.input);

describeWithNginx('the native gateway (nginx)', () => {
  let repo: ModelRepository;
  let dataDir: string;
  let server: any;
  let native: string;
  let stop: () => Promise<void>;
  const user = { Authorization: mockCredentials.user.header() };
  const callLog = () => path.join(dataDir, 'gateway-nginx', 'calls.log');
  /** Once nginx wrote what it buffered (every 200 ms). */
  const flushed = () => new Promise(r => setTimeout(r, 500));
  /** Calls nginx forwarded itself so far (its call log). */
  const nativeCalls = () => {
    const logged: LoggedCall[] = [];
    if (fs.existsSync(callLog())) {
      parseCallLog(
        fs.readFileSync(callLog()),
        call => logged.push(call),
        () => {
          throw new Error('a call log record did not add up');
        },
      );
    }
    return logged;
  };

  /**
   * Until a call to the data plane is forwarded by nginx (in its call log
   * past `logged` calls); until nginx knows the replica, the backend answers.
   */
  const forwardedByNginx = (logged: number, what: string) =>
    waitFor(
      async () => {
        await request(native)
          .post('/api/ml-platform/v2/models/churn/infer')
          .set({ 'Content-Type': 'application/json', ...user })
          .send(JSON.stringify(churnV2Body(rows.slice(0, 1))))
          .expect(200);
        await flushed();
        return nativeCalls().length > logged;
      },
      { what, timeoutMs: 10_000 },
    );

  beforeAll(async () => {
    // `slow` is the churn model taking 5 s for a customer with 99 support
    // calls: longer than the gateway's timeout.
    repo = await ModelRepository.create({ churn: 'churn', slow: 'churn' });
    const model = path.join(repo.workPath, 'slow', 'model.py');
    await repo.writeFile(
      'slow/model.py',
      fs
        .readFileSync(model, 'utf8')
        .replace(
          '    def predict(self, rows):\n',
          '    def predict(self, rows):\n        if any(r.get("support_calls") == 99 for r in rows):\n            import time\n            time.sleep(5)\n',
        ),
    );
    await repo.commitAndPush('A slow model');
    dataDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-nginx-'));
    const port = await freePort();
    native = `http://127.0.0.1:${port}`;
    const backend = await startTestBackend({
      features: [
        mlPlatformPlugin,
        catalogServiceMock.factory({
          entities: [mlModelComponent('churn'), mlModelComponent('slow')],
        }),
        mockServices.rootConfig.factory({
          data: {
            mlPlatform: {
              dataDir,
              git: { root: repo.root },
              builds: { pollInterval: 0 },
              gateway: {
                maxBodyBytes: 8 * 1024,
                maxJsonDepth: 8,
                timeout: 2000,
                nginx: { enabled: true, port },
              },
              monitoring: {
                flushInterval: 100,
                scrape: { allowUnauthenticated: true },
              },
              events: { flushInterval: 50 },
            },
          },
        }),
      ],
    });
    server = backend.server;
    stop = () => backend.stop();

    await deployOnline(server, repo.url);
    await deployOnline(server, repo.url, 'slow');
    // nginx learns of the replica within 200 ms; until then calls go
    // through the backend.
    await forwardedByNginx(0, 'a call forwarded by nginx');
  });

  afterAll(async () => {
    await stop?.();
    await repo?.remove();
    await fs.promises.rm(dataDir, { recursive: true, force: true });
  });

  /** The same calls to the portal's port or to nginx's, as the caller sees them. */
  async function calls(target: 'portal' | 'native') {
    const answers: Record<string, { status: number; body: any }> = {};
    const call = async (
      name: string,
      url: string,
      body: string,
      headers: Record<string, string> = user,
    ) => {
      const res = await (target === 'portal'
        ? request(server).post(api(url))
        : request(native).post(`/api/ml-platform${url}`)
      )
        .set({ 'Content-Type': 'application/json', ...headers })
        .send(body);
      answers[name] = { status: res.status, body: res.body };
    };
    const v2 = JSON.stringify(churnV2Body(rows));
    await call(
      'records',
      '/models/default/churn/predict',
      JSON.stringify({ dataframe_records: rows }),
    );
    await call('v2', '/v2/models/churn/infer', v2);
    await call(
      'service',
      '/models/default/churn/predict',
      JSON.stringify({ dataframe_records: rows.slice(0, 1) }),
      { Authorization: mockCredentials.service.header() },
    );
    // Each of these is left to the backend's gateway by nginx.
    await call('noRecordsShape', '/models/default/churn/predict', '{"x": 1}');
    await call('unknownModel', '/v2/models/nope/infer', '{}');
    await call('unknownNamespace', '/models/other/churn/predict', '{}');
    await call(
      'tooLarge',
      '/models/default/churn/predict',
      JSON.stringify({ dataframe_records: Array(200).fill(rows[0]) }),
    );
    await call('anonymous', '/v2/models/churn/infer', v2, {
      Authorization: mockCredentials.none.header(),
    });
    await call('badToken', '/v2/models/churn/infer', v2, {
      Authorization: 'Bearer not-a-token',
    });
    const tensor = churnV2Body(rows);
    tensor.inputs[0].data = tensor.inputs[0].data.slice(1);
    await call('shortTensor', '/v2/models/churn/infer', JSON.stringify(tensor));
    const wrongType = churnV2Body(rows);
    wrongType.inputs[0].data[0] = 'twelve';
    await call(
      'wrongType',
      '/v2/models/churn/infer',
      JSON.stringify(wrongType),
    );
    await call(
      'tooDeep',
      '/models/default/churn/predict',
      `{"instances": ${'['.repeat(9)}${']'.repeat(9)}}`,
    );
    await call('notJson', '/v2/models/churn/infer', '{"inputs": [', user);
    return answers;
  }

  it('answers every call as the portal does, forwarding the good ones itself', async () => {
    await flushed();
    const loggedBefore = nativeCalls().length;
    const viaNative = await calls('native');
    const viaPortal = await calls('portal');
    expect(viaNative.records.status).toBe(200);
    expect(
      viaNative.records.body.predictions.map((p: any) => p.churn_probability),
    ).toEqual(expected.map(e => expect.closeTo(e.churn_probability, 6)));
    expect(viaNative.v2.status).toBe(200);
    expect(viaNative.service.status).toBe(200);
    const outcome = (answers: typeof viaPortal) =>
      Object.fromEntries(
        Object.entries(answers).map(([k, a]) => [
          k,
          [a.status, a.status >= 400 ? a.body.error : a.body],
        ]),
      );
    // V2 answers carry the replica's request id: compare without it.
    for (const answers of [viaNative, viaPortal]) delete answers.v2.body.id;
    expect(outcome(viaNative)).toEqual(outcome(viaPortal));
    expect(viaNative.tooLarge.status).toBe(413);
    expect(viaNative.badToken.status).toBe(401);
    expect(viaNative.shortTensor.body.error.message).toMatch(
      /^body.inputs\[0\].data: /,
    );
    expect(viaNative.tooDeep.body.error.message).toMatch(/maxJsonDepth/);

    // The three good calls went through nginx alone; the rest did not.
    const logged = await waitFor(
      async () => {
        const lines = nativeCalls().slice(loggedBefore);
        return lines.length >= 3 ? lines : undefined;
      },
      { what: "nginx's call log", timeoutMs: 5_000 },
    );
    await flushed();
    expect(nativeCalls()).toHaveLength(loggedBefore + 3);
    expect(
      logged.map(l => [l.protocol, l.callerKind, l.status, l.modelRef]),
    ).toEqual([
      ['records', 'user', 200, 'component:default/churn'],
      ['v2', 'user', 200, 'component:default/churn'],
      ['records', 'service', 200, 'component:default/churn'],
    ]);
    expect(JSON.parse(logged[1].request.toString())).toEqual(churnV2Body(rows));
    expect(JSON.parse(logged[1].answer.toString()).outputs).toEqual(
      viaNative.v2.body.outputs,
    );
  });

  it('records the calls it forwards like the others: metrics and prediction events', async () => {
    const requests = async () => {
      const { text } = await request(server).get(api('/metrics')).expect(200);
      return [
        ...text.matchAll(
          /^ml_platform_model_requests_total\{[^}]*caller_kind="(\w+)"[^}]*\} (\d+)$/gm,
        ),
      ].reduce((n, m) => n + Number(m[2]), 0);
    };
    const events = async () =>
      (
        await request(server)
          .get(api('/models/default/churn/events?limit=100'))
          .expect(200)
      ).body.items;
    await flushed();
    const before = await requests();
    const eventsBefore = (await events()).length;
    const loggedBefore = nativeCalls().length;
    const v2 = JSON.stringify(churnV2Body(rows.slice(0, 2)));
    for (let i = 0; i < 5; i++) {
      await request(native)
        .post('/api/ml-platform/v2/models/churn/infer')
        .set({ 'Content-Type': 'application/json', ...user })
        .send(v2)
        .expect(200);
    }
    expect(nativeCalls().length).toBeGreaterThanOrEqual(loggedBefore);
    await waitFor(async () => (await requests()) === before + 5, {
      what: 'the 5 native calls in the metrics',
      timeoutMs: 5_000,
    });
    expect(nativeCalls().length).toBe(loggedBefore + 5);
    const stored = await waitFor(
      async () => {
        const items = await events();
        return items.length === eventsBefore + 5 ? items : undefined;
      },
      { what: 'the 5 prediction events', timeoutMs: 5_000 },
    );
    const last = stored[0];
    expect(last).toMatchObject({
      modelRef: 'component:default/churn',
      route: 'v2',
      status: 200,
    });
    expect(last.request).toEqual(churnV2Body(rows.slice(0, 2)));
    // Timed when nginx ended the call, not when the backend read its log.
    const logged = nativeCalls().at(-1)!;
    expect(Date.parse(last.time)).toBe(logged.endedAt);
    expect(last.response.outputs).toHaveLength(2);
  });

  it('answers a model that does not answer in time as the portal does, and records it', async () => {
    const slowRows = rows.slice(0, 1).map(r => ({ ...r, support_calls: 99 }));
    const call = (agent: any, url: string) =>
      agent
        .post(url)
        .set({ 'Content-Type': 'application/json', ...user })
        .send(JSON.stringify({ dataframe_records: slowRows }));
    const route = '/models/default/slow/predict';
    // The first call of this caller to `slow` is authorized by the backend;
    // a good one makes nginx remember it.
    await request(native)
      .post(`/api/ml-platform${route}`)
      .set({ 'Content-Type': 'application/json', ...user })
      .send(JSON.stringify({ dataframe_records: rows.slice(0, 1) }))
      .expect(200);
    await flushed();
    const logged = nativeCalls().length;
    const viaNative = await call(request(native), `/api/ml-platform${route}`);
    const viaPortal = await call(request(server), api(route));
    expect(viaNative.status).toBe(504);
    expect(viaNative.body.error).toEqual({
      name: 'GatewayTimeoutError',
      message: 'The model did not answer within 2 s',
    });
    expect([viaNative.status, viaNative.body.error]).toEqual([
      viaPortal.status,
      viaPortal.body.error,
    ]);
    await flushed();
    const timedOut = nativeCalls().slice(logged);
    expect(timedOut.map(c => [c.modelRef, c.status])).toEqual([
      ['component:default/slow', 504],
    ]);
    expect(timedOut[0].latencyUs).toBeGreaterThanOrEqual(2_000_000);
  });

  it('serves nothing but invocations on its port', async () => {
    const res = await request(native).get('/api/ml-platform/models').set(user);
    expect(res.status).toBe(404);
    expect(res.body.error.name).toBe('NotFoundError');
  });

  it('tells callers where it is, and is restarted when nginx exits', async () => {
    const gatewayInfo = async () =>
      (await request(server).get(api('/gateway')).set(user).expect(200)).body
        .nativeDataPlane;
    expect(await gatewayInfo()).toEqual({ state: 'running', url: native });

    // nginx's master is killed: its worker still holds the port and its
    // control socket's file is left behind. The backend starts it again.
    const pid = Number(
      fs.readFileSync(path.join(dataDir, 'gateway-nginx', 'nginx.pid'), 'utf8'),
    );
    process.kill(pid, 'SIGKILL');
    const down = await waitFor(
      async () => {
        const info = await gatewayInfo();
        return info.state === 'restarting' ? info : undefined;
      },
      { what: 'the backend to see nginx exit', timeoutMs: 5_000 },
    );
    expect(down.reason).toMatch(/^nginx exited/);
    expect(down.url).toBeUndefined();
    // Something else holds its port when it is restarted (in 1 s): that
    // start fails, and the backend keeps trying (next in 2 s).
    const squatter = await waitFor(
      () =>
        new Promise<net.Server | undefined>(resolve => {
          const taker = net.createServer();
          taker.once('error', () => resolve(undefined));
          taker.listen(Number(new URL(native).port), '127.0.0.1', () =>
            resolve(taker),
          );
        }),
      { what: 'the killed nginx to free its port', timeoutMs: 2_000 },
    );
    const refused = await waitFor(
      async () => {
        const info = await gatewayInfo();
        return /did not restart/.test(info.reason ?? '') ? info : undefined;
      },
      { what: 'a restart to fail', timeoutMs: 5_000 },
    );
    expect(refused.state).toBe('restarting');
    await new Promise(r => squatter.close(r));
    await waitFor(async () => (await gatewayInfo()).state === 'running', {
      what: 'nginx to be restarted',
      timeoutMs: 10_000,
    });
    await forwardedByNginx(
      nativeCalls().length,
      'a call forwarded by the new nginx',
    );
  });

  it('sends calls to the backend when the deployment has no ready replica', async () => {
    const deployments = (
      await request(server).get(api('/models/default/churn/deployments'))
    ).body.items;
    const id = deployments.find((d: any) => d.type === 'online').id;
    await request(server)
      .patch(api(`/deployments/${id}`))
      .send({ replicas: 0 })
      .expect(200);
    const body = JSON.stringify(churnV2Body(rows.slice(0, 1)));
    const portal = await waitFor(
      async () => {
        const res = await request(server)
          .post(api('/v2/models/churn/infer'))
          .set({ 'Content-Type': 'application/json', ...user })
          .send(body);
        return res.status === 503 ? res : undefined;
      },
      { what: 'the replica to stop' },
    );
    // nginx learns within 200 ms that the deployment has no replica.
    await flushed();
    const logged = nativeCalls().length;
    const res = await request(native)
      .post('/api/ml-platform/v2/models/churn/infer')
      .set({ 'Content-Type': 'application/json', ...user })
      .send(body);

    expect([res.status, res.body.error]).toEqual([
      portal.status,
      portal.body.error,
    ]);
    await flushed();
    expect(nativeCalls().length).toBe(logged);
  });
});
