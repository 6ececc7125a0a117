import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import request from 'supertest';
import { churnRow } from '../../__testUtils__/churnReference';
import { waitFor } from '../../__testUtils__/modelRepository';
import { api } from '../../__testUtils__/platformApi';
import {
  SecurityBackend,
  modelEntity,
  startSecurityBackend,
} from '../../__testUtils__/securityBackend';

/**
 * Issue 12, attack 3: a build ran the repository's code as the backend's
 * user with its whole environment. Builds, replicas and batch workers now
 * run contained: an unprivileged user when the backend is root (CI is),
 * nothing of the backend's environment, limits, and no network for builds
 * when `buildNetwork` is off.
 */

jest.setTimeout(180_000);

const BACKEND_SECRET = 'backend-env-secret-5f0c2d';
const WEBHOOK_SECRET = 'webhook-secret-81ac9e';
const INTEGRATION_TOKEN = 'ghp_integration-token-77d1';
const OPEN_FILES = 512;
const MEMORY_BYTES = 3 * 1024 ** 3;

/** Reports who runs it: each prediction is the process's uid and environment. */
const SPY_MODEL = `import os, resource

class Model:
    def load(self):
        pass

    def predict(self, rows):
        me = {
            "uid": os.getuid(),
            "env": sorted(os.environ),
            "nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        }
        return [me for _ in rows]
`;

const isRoot = process.getuid?.() === 0;
const nobodyUid = isRoot
  ? Number(execFileSync('id', ['-u', 'nobody']).toString().trim())
  : process.getuid!();

/** Variables a sandboxed process may see: the minimal set, no more. */
const ALLOWED_ENV = new Set([
  'PATH',
  'HOME',
  'LANG',
  'TMPDIR',
  'VIRTUAL_ENV',
  'PYTHONDONTWRITEBYTECODE',
  'PYTHONUNBUFFERED',
  'PYTHONPATH',
  'PIP_DISABLE_PIP_VERSION_CHECK',
  'PIP_NO_INPUT',
  // Set by sh and python themselves.
  'PWD',
  'SHLVL',
  '_',
  'LC_CTYPE',
]);

describe('model code runs contained', () => {
  let b: SecurityBackend;
  let port: number;
  const get = (p: string) => request(b.server).get(api(p)).set(b.guest);
  const post = (p: string) => request(b.server).post(api(p)).set(b.guest);

  beforeAll(async () => {
    process.env.MLP_BACKEND_SECRET = BACKEND_SECRET;
    b = await startSecurityBackend({
      entities: [modelEntity('spy')],
      models: { spy: 'churn' },
      config: {
        builds: { pollInterval: 0, heartbeatInterval: 200 },
        sandbox: {
          limits: { openFiles: OPEN_FILES, memoryBytes: MEMORY_BYTES },
          buildNetwork: false,
        },
      },
      events: {
        http: { topics: ['github'] },
        modules: { github: { webhookSecret: WEBHOOK_SECRET } },
      },
      rootConfig: {
        integrations: {
          github: [{ host: 'github.com', token: INTEGRATION_TOKEN }],
        },
      },
    });
    port = (b.server.address() as net.AddressInfo).port;
    await b.repo.writeFile('spy/model.py', SPY_MODEL);
    const manifest = await fs.promises.readFile(
      path.join(b.repo.workPath, 'spy/mlmodel.yaml'),
      'utf8',
    );
    await b.repo.writeFile(
      'spy/probe.sh',
      [
        'echo uid=$(id -u)',
        'echo nofile=$(ulimit -n)',
        'echo vmem=$(ulimit -v)',
        'env | sed "s/^/env: /"',
        `python3 -c "import socket; s = socket.socket(); s.settimeout(2); print('connect=%d' % s.connect_ex(('127.0.0.1', ${port})))"`,
        '',
      ].join('\n'),
    );
    await b.repo.writeFile(
      'spy/mlmodel.yaml',
      manifest
        .replace(/tests: .*/, 'tests: sh probe.sh')
        .replace(/ *requirements: .*\n/, ''),
    );
    await b.repo.commitAndPush('Spy model');
    await post('/models/default/spy/register').send({
      gitUrl: b.repo.url,
      gitPath: 'spy',
      defaultBranch: 'main',
    });
  });

  afterAll(async () => {
    delete process.env.MLP_BACKEND_SECRET;
    await b?.stop();
  });

  it("prints a non-root uid and none of the backend's environment from a build's tests step", async () => {
    const queued = await post('/models/default/spy/builds').send({});
    expect(queued.status).toBe(202);
    const build = await waitFor(
      async () => {
        const r = await get(`/builds/${queued.body.id}`);
        return ['succeeded', 'failed'].includes(r.body.status)
          ? r.body
          : undefined;
      },
      { what: 'the spy build', timeoutMs: 60_000 },
    );
    const log = (await get(`/builds/${build.id}/logs`)).text;
    expect(build.failureReason).toBeUndefined();

    const uid = Number(/^.*uid=(\d+)$/m.exec(log)?.[1]);
    expect(uid).not.toBe(0);
    expect(uid).toBe(nobodyUid);
    expect(Number(/nofile=(\d+)$/m.exec(log)?.[1])).toBe(OPEN_FILES);
    expect(Number(/vmem=(\d+)$/m.exec(log)?.[1]) * 1024).toBe(MEMORY_BYTES);
    // buildNetwork: false: not even the backend on loopback answers.
    expect(Number(/connect=(\d+)$/m.exec(log)?.[1])).not.toBe(0);

    const env = Object.fromEntries(
      [...log.matchAll(/env: ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/gm)].map(m => [
        m[1],
        m[2],
      ]),
    );
    expect(Object.keys(env).filter(k => !ALLOWED_ENV.has(k))).toEqual([]);
    expect(env.HOME).toBe(path.join(b.dataDir, 'builds', build.id, 'home'));
    for (const secret of [BACKEND_SECRET, WEBHOOK_SECRET, INTEGRATION_TOKEN]) {
      expect(log).not.toContain(secret);
    }
  });

  it('runs online replicas and batch workers as the same unprivileged user with the same minimal environment', async () => {
    const build = (await get('/models/default/spy/builds')).body.items.find(
      (x: any) => x.status === 'succeeded',
    );
    const deployment = await post('/models/default/spy/deployments').send({
      buildId: build.id,
      type: 'online',
      replicas: 1,
    });
    expect(deployment.status).toBe(201);
    await waitFor(
      async () =>
        (await get(`/deployments/${deployment.body.id}`)).body.status ===
        'ready',
      { what: 'the spy replica' },
    );
    const predicted = await post('/models/default/spy/predict').send({
      dataframe_records: [churnRow(1)],
    });
    expect(predicted.status).toBe(200);
    const [replica] = predicted.body.predictions;
    expect(replica.uid).toBe(nobodyUid);
    expect(replica.nofile).toBe(OPEN_FILES);
    expect(replica.env.filter((k: string) => !ALLOWED_ENV.has(k))).toEqual([]);

    const upload = await post('/models/default/spy/uploads?filename=rows.csv')
      .set('Content-Type', 'application/octet-stream')
      .send(
        Buffer.from(
          `tenure_months,monthly_charges,total_charges,contract,support_calls,has_internet\n2,85,170,one-year,3,true\n`,
        ),
      );
    const execution = await post('/models/default/spy/executions').send({
      buildId: build.id,
      input: { type: 'upload', uploadId: upload.body.uploadId },
      output: { type: 'file', format: 'jsonl' },
    });
    expect(execution.status).toBe(202);
    await waitFor(
      async () =>
        (await get(`/executions/${execution.body.id}`)).body.status ===
        'succeeded',
      { what: 'the spy execution' },
    );
    const result = await get(`/executions/${execution.body.id}/result`);
    const [worker] = result.text
      .split('\n')
      .filter(Boolean)
      .map(l => JSON.parse(l));
    expect(worker.uid).toBe(nobodyUid);
    expect(worker.env.filter((k: string) => !ALLOWED_ENV.has(k))).toEqual([]);
  });
});
