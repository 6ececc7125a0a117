import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { churnRow, churnV2Body } from '../../__testUtils__/churnReference';
import { waitFor } from '../../__testUtils__/modelRepository';
import { api } from '../../__testUtils__/platformApi';
import {
  SecurityBackend,
  modelEntity,
  startSecurityBackend,
} from '../../__testUtils__/securityBackend';

/**
 * Every attack of issue 12, replayed against a backend as a fresh clone
 * runs it (guest sign-in, real catalog, events, auth): nothing runs,
 * nothing is read, the answer is a 4xx that names the field, never a 5xx.
 */

jest.setTimeout(180_000);

/** A file the attacks try to create; it must never appear. */
const marker = (name: string) =>
  path.join(os.tmpdir(), `mlp-pwned-${process.pid}-${name}`);
const SECRET_PASSWORD = 's3cret-pw-0123';

/** A raw request: no client normalises the path or fixes the body. */
function raw(
  server: http.Server,
  options: {
    method: string;
    path: string;
    headers?: Record<string, string>;
    body?: string;
  },
): Promise<{ status: number; body: any }> {
  const { port } = server.address() as net.AddressInfo;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: options.method,
        path: options.path,
        headers: options.headers,
      },
      res => {
        let text = '';
        res.on('data', c => (text += c));
        res.on('end', () => {
          let body: any = text;
          try {
            body = JSON.parse(text);
          } catch {
            // Not JSON.
          }
          resolve({ status: res.statusCode!, body });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('issue 12 attacks against the embedded defaults', () => {
  let b: SecurityBackend;
  let inputsDir: string;
  let buildId: string;
  /** URLs of every request the backend's HTTP server got. */
  const seen: string[] = [];

  const post = (p: string) => request(b.server).post(api(p)).set(b.guest);
  const get = (p: string) => request(b.server).get(api(p)).set(b.guest);
  /** A 4xx whose message names the field; never a 5xx. */
  const expect4xxNaming = (
    res: { status: number; body: any },
    field: RegExp,
  ) => {
    expect({
      clientError: res.status >= 400 && res.status < 500,
      message: res.body?.error?.message,
    }).toEqual({ clientError: true, message: expect.stringMatching(field) });
  };
  const waitForFinished = (id: string) =>
    waitFor(
      async () => {
        const r = await get(`/builds/${id}`);
        return ['succeeded', 'failed'].includes(r.body.status)
          ? r.body
          : undefined;
      },
      { what: `build ${id}`, timeoutMs: 60_000 },
    );

  beforeAll(async () => {
    inputsDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-in-'));
    await fs.promises.writeFile(
      path.join(inputsDir, 'ok.csv'),
      'tenure_months\n1\n',
    );
    await fs.promises.symlink('/etc/passwd', path.join(inputsDir, 'link.csv'));
    b = await startSecurityBackend({
      entities: [
        modelEntity('churn'),
        modelEntity('victim'),
        modelEntity('annotated', {
          'ml-platform/git-url': `--upload-pack=touch ${marker('annotation')}`,
        }),
        modelEntity('leaky', {
          'ml-platform/git-url': `https://ada:${SECRET_PASSWORD}@127.0.0.1:9/models.git`,
        }),
      ],
      config: {
        builds: { pollInterval: 300, heartbeatInterval: 200 },
        gateway: { timeout: 2000 },
        batch: {
          allowedInputRoots: [inputsDir],
          uploadQuotaBytes: 4096,
        },
      },
    });
    b.server.on('request', (req: http.IncomingMessage) => seen.push(req.url!));
    const registered = await post('/models/default/churn/register').send({
      gitUrl: b.repo.url,
      gitPath: 'churn',
      defaultBranch: 'main',
    });
    if (registered.status !== 200) {
      throw new Error(`register: ${JSON.stringify(registered.body)}`);
    }
    const queued = await post('/models/default/churn/builds').send({});
    const build = await waitForFinished(queued.body.id);
    if (build.failureReason) throw new Error(build.failureReason);
    buildId = build.id;
  });

  afterAll(async () => {
    await b?.stop();
    await fs.promises.rm(inputsDir, { recursive: true, force: true });
    for (const f of fs.readdirSync(os.tmpdir())) {
      if (f.startsWith(`mlp-pwned-${process.pid}-`)) {
        fs.rmSync(path.join(os.tmpdir(), f), { force: true });
      }
    }
  });

  it('1. a gitUrl that git would read as an option is refused, and the poller runs nothing', async () => {
    const attacks = [
      `--upload-pack=touch ${marker('upload-pack')}`,
      `-oProxyCommand=touch ${marker('proxy')}`,
      `ext::sh -c touch% ${marker('ext')}`,
      `ssh://-oProxyCommand=touch%20${marker('ssh')}/x`,
      `file:///etc`,
      `http://127.0.0.1:9/models.git`,
    ];
    for (const gitUrl of attacks) {
      const res = await post('/models/default/victim/register').send({
        gitUrl,
        defaultBranch: 'main',
      });
      expect4xxNaming(res, /^body\.gitUrl: /);
    }
    // An entity annotation is user input too.
    const fromEntity = await post('/models/default/annotated/builds').send({});
    expect4xxNaming(fromEntity, /gitUrl of the model's entity/);
    // The poller runs every 300 ms: give it several rounds.
    await new Promise(r => setTimeout(r, 1500));
    for (const name of ['upload-pack', 'proxy', 'ext', 'ssh', 'annotation']) {
      expect(fs.existsSync(marker(name))).toBe(false);
    }
  });

  it('2. pushes build nothing while no webhook secret is configured, whatever they say', async () => {
    const before = (await get('/models/default/churn/builds?limit=200')).body
      .totalCount;
    const head = (
      await request(b.server)
        .get(api(`/builds/${buildId}`))
        .set(b.guest)
    ).body.commitSha;
    const payload = (after: string) =>
      JSON.stringify({
        ref: 'refs/heads/main',
        after,
        repository: { clone_url: b.repo.url },
        commits: [{ modified: ['churn/x'] }],
      });
    const posts = [];
    for (let i = 0; i < 20; i++) {
      posts.push(
        request(b.server)
          .post('/api/events/http/github')
          .set('Content-Type', 'application/json')
          .set('X-GitHub-Event', 'push')
          .send(payload(i === 0 ? head : '--pathspec-from-file=/etc/hostname')),
      );
    }
    for (const res of await Promise.all(posts)) {
      expect(res.status).toBeLessThan(500);
    }
    await new Promise(r => setTimeout(r, 1000));
    const after = (await get('/models/default/churn/builds?limit=200')).body;
    expect(after.totalCount).toBe(before);
    const hostname = fs.readFileSync('/etc/hostname', 'utf8').trim();
    for (const build of after.items) {
      expect(build.failureReason ?? '').not.toContain(hostname);
    }
  });

  it('4. a V2 request whose shape stands for millions of rows is refused at the gateway before anything is allocated', async () => {
    const deployed = await post('/models/default/churn/deployments').send({
      buildId,
      type: 'online',
      replicas: 1,
    });
    expect(deployed.status).toBe(201);
    await waitFor(
      async () =>
        (await get(`/deployments/${deployed.body.id}`)).body.status === 'ready',
      { what: 'the deployment to be ready' },
    );
    const infer = (body: string | object, p = '/v2/models/churn/infer') =>
      post(p)
        .set('Content-Type', 'application/json')
        .send(typeof body === 'string' ? body : JSON.stringify(body));

    const names = [
      'tenure_months',
      'monthly_charges',
      'total_charges',
      'contract',
      'support_calls',
      'has_internet',
    ];
    const bomb = JSON.stringify({
      inputs: names.map(name => ({
        name,
        shape: [3000000, 0],
        datatype: 'FP64',
        data: [],
      })),
    });
    // Refused from the shape by the gateway: the replica never gets it.
    const res = await infer(bomb);
    expect4xxNaming(res, /^body\.inputs\[0\]\.shape: \[3000000, 0\]/);

    const v2 = churnV2Body([churnRow(2)]);
    const withInput = (name: string, change: object) => ({
      ...v2,
      inputs: v2.inputs.map((i: any) =>
        i.name === name ? { ...i, ...change } : i,
      ),
    });
    const cases: [string | object, RegExp, string?][] = [
      // 5. what the model server answered 500 to, and ranges it accepted
      [
        JSON.stringify(
          withInput('monthly_charges', { data: ['NAN_HERE'] }),
        ).replace('"NAN_HERE"', 'NaN'),
        /^body: invalid JSON/,
      ],
      [
        JSON.stringify(withInput('tenure_months', { data: [1] })).replace(
          '"data":[1]',
          '"data":[123456789012345678901234567890]',
        ),
        /^body\.inputs\[0\]\.data\[0\]: .* out of the INT64 range/,
      ],
      [
        `${'['.repeat(5000)}${']'.repeat(5000)}`,
        /^body: JSON nested deeper than 32 levels/,
      ],
      [
        withInput('tenure_months', { datatype: 'UINT8', data: [300] }),
        /^body\.inputs\[0\]\.data\[0\]: 300 is out of the UINT8 range/,
      ],
      [
        withInput('tenure_months', { datatype: 'INT8', data: [1000] }),
        /^body\.inputs\[0\]\.data\[0\]: 1000 is out of the INT8 range/,
      ],
      [
        withInput('tenure_months', { shape: [3], data: [1] }),
        /^body\.inputs\[0\]\.data: 1 values where shape \[3\] needs 3/,
      ],
      [
        `{"dataframe_records": ${'['.repeat(5000)}${']'.repeat(5000)}}`,
        /^body: JSON nested deeper/,
        '/models/default/churn/predict',
      ],
      [
        '{"dataframe_records": [{"tenure_months": NaN}]}',
        /^body: invalid JSON/,
        '/models/default/churn/predict',
      ],
    ];
    for (const [body, message, p] of cases) {
      expect4xxNaming(await infer(body, p), message);
    }
    // The replica never saw them: it answers as before (and keeps serving
    // for the slow-body attack below).
    const ok = await infer(v2);
    expect(ok.status).toBe(200);
  });

  it('5. paths with .. segments are refused before routing, and never reach the catalog', async () => {
    const attacks: [string, string][] = [
      ['GET', '/api/ml-platform/models/../..'],
      ['GET', '/api/ml-platform/models/%2e%2e/%2e%2e'],
      ['GET', '/api/ml-platform/models/default/..%2F..%2Fcatalog'],
      ['POST', '/api/ml-platform/models/../../builds'],
      ['POST', '/api/ml-platform/v2/models/../infer'],
      ['POST', '/api/ml-platform/v2/models/%2e%2e/infer'],
      ['POST', '/api/ml-platform/models/../../predict'],
      ['GET', '/api/ml-platform/builds/..'],
    ];
    for (const [method, p] of attacks) {
      seen.length = 0;
      const res = await raw(b.server, {
        method,
        path: p,
        headers: {
          ...b.guest,
          'Content-Type': 'application/json',
        },
        body: method === 'POST' ? '{}' : undefined,
      });
      expect({
        p,
        status: res.status,
        message: res.body?.error?.message,
      }).toEqual({
        p,
        status: 400,
        message: expect.stringMatching(/^path/),
      });
      expect(seen.filter(u => u.startsWith('/api/catalog'))).toEqual([]);
    }
  });

  it('5. credentials inside a gitUrl are refused and never echoed', async () => {
    const url = `https://ada:${SECRET_PASSWORD}@127.0.0.1:9/models.git`;
    const registered = await post('/models/default/victim/register').send({
      gitUrl: url,
    });
    expect4xxNaming(registered, /^body\.gitUrl: .*credentials/);
    const token = await post('/models/default/victim/register').send({
      gitUrl: `https://${SECRET_PASSWORD}@github.com/acme/models.git`,
    });
    expect4xxNaming(token, /^body\.gitUrl: .*credentials/);
    const fromEntity = await post('/models/default/leaky/builds').send({});
    expect4xxNaming(fromEntity, /credentials/);
    for (const res of [registered, token, fromEntity]) {
      expect(JSON.stringify(res.body)).not.toContain(SECRET_PASSWORD);
    }
  });

  it('5. a register body that is text/plain or empty does not clear the Git settings', async () => {
    const good = await post('/models/default/victim/register').send({
      gitUrl: b.repo.url,
      gitPath: 'churn',
      defaultBranch: 'main',
    });
    expect(good.status).toBe(200);
    const plain = await post('/models/default/victim/register')
      .set('Content-Type', 'text/plain')
      .send('{"gitUrl": ""}');
    expect4xxNaming(plain, /^body: expected Content-Type application\/json/);
    expect(plain.status).toBe(415);
    const empty = await post('/models/default/victim/register').send({});
    expect(empty.status).toBe(200);
    const none = await request(b.server)
      .post(api('/models/default/victim/register'))
      .set(b.guest);
    expect(none.status).toBe(200);
    // Still builds from the repository, branch and directory given first.
    const queued = await post('/models/default/victim/builds').send({});
    expect(queued.status).toBe(202);
    const build = await waitForFinished(queued.body.id);
    expect(build.failureReason).toBeUndefined();
  });

  it('5. a 140,000-character branch is a 400, not a 500', async () => {
    const branch = 'b'.repeat(140_000);
    const long = await post('/models/default/churn/builds').send({ branch });
    expect(long.status).toBe(400);
    expect4xxNaming(long, /^body\.branch: expected at most 255 characters$/);
    expect4xxNaming(
      await post('/models/default/churn/register').send({
        defaultBranch: branch,
      }),
      /^body\.defaultBranch: expected at most 255 characters$/,
    );
    expect4xxNaming(
      await post('/models/default/churn/builds').send({
        branch: '--upload-pack=x',
      }),
      /^body\.branch: expected a branch name/,
    );
    expect4xxNaming(
      await post('/models/default/churn/builds').send({ branch: 'a..b' }),
      /^body\.branch: not a valid branch name \(git check-ref-format\)/,
    );
  });

  it('5. schedules, input paths, upload ids and URL hosts are checked when a deployment or execution is created', async () => {
    const output = { type: 'file', format: 'csv' };
    const deploy = (batch: object) =>
      post('/models/default/churn/deployments').send({
        buildId,
        type: 'batch',
        batch,
      });
    const input = { type: 'path', path: path.join(inputsDir, 'ok.csv') };
    expect4xxNaming(
      await deploy({ schedule: 'a b c d e f', input, output }),
      /^body\.batch\.schedule: expected a cron expression like "0 3 \* \* \*": /,
    );
    expect4xxNaming(
      await deploy({
        schedule: '0 3 * * *',
        input: { type: 'path', path: '/etc/passwd' },
        output,
      }),
      /^body\.batch\.input\.path: \/etc\/passwd is not under a directory in mlPlatform\.batch\.allowedInputRoots/,
    );
    expect4xxNaming(
      await deploy({
        schedule: '0 3 * * *',
        input: {
          type: 'upload',
          uploadId: '00000000-0000-4000-8000-000000000000',
        },
        output,
      }),
      /^body\.batch\.input\.uploadId: no upload/,
    );
    const execute = (i: object) =>
      post('/models/default/churn/executions').send({
        buildId,
        input: i,
        output,
      });
    // A symlink inside an allowed root is followed before the check.
    expect4xxNaming(
      await execute({ type: 'path', path: path.join(inputsDir, 'link.csv') }),
      /^body\.input\.path: .*link\.csv is not under a directory in mlPlatform\.batch\.allowedInputRoots/,
    );
    for (const url of [
      'http://127.0.0.1:7007/api/catalog/entities',
      'http://localhost/x.csv',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::1]/x.csv',
      'http://10.0.0.1/x.csv',
      'http://0x7f000001/x.csv',
      'http://[::ffff:127.0.0.1]/x.csv',
    ]) {
      expect4xxNaming(
        await execute({ type: 'url', url }),
        /^body\.input\.url: .*loopback, link-local or private address/,
      );
      expect4xxNaming(
        await deploy({
          schedule: '0 3 * * *',
          input: { type: 'url', url },
          output,
        }),
        /^body\.batch\.input\.url: .*loopback, link-local or private/,
      );
    }
    const deployments = (await get('/models/default/churn/deployments')).body
      .items;
    expect(deployments.filter((d: any) => d.type === 'batch')).toEqual([]);
  });

  it('5. uploads count against the model’s quota', async () => {
    const upload = (bytes: number) =>
      post('/models/default/churn/uploads?filename=in.csv')
        .set('Content-Type', 'application/octet-stream')
        .send(Buffer.from(`a\n${'1\n'.repeat(bytes / 2 - 1)}`));
    expect((await upload(3000)).status).toBe(201);
    expect4xxNaming(await upload(3000), /quota/);
  });

  it('5. a partial request body times out within mlPlatform.gateway.timeout', async () => {
    const { port } = b.server.address() as net.AddressInfo;
    const slow = (p: string, contentType: string) =>
      new Promise<{ status: number; ms: number }>((resolve, reject) => {
        const started = Date.now();
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.write(
            [
              `POST ${p} HTTP/1.1`,
              'Host: localhost',
              `Authorization: ${b.guest.Authorization}`,
              `Content-Type: ${contentType}`,
              'Content-Length: 1000',
              '',
              '{"gitUrl": ',
            ].join('\r\n'),
          );
        });
        let text = '';
        socket.on('data', d => (text += d));
        socket.on('close', () =>
          resolve({
            status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0),
            ms: Date.now() - started,
          }),
        );
        socket.on('error', reject);
        setTimeout(() => {
          socket.destroy();
          reject(new Error(`${p} held the connection for 10 s`));
        }, 10_000).unref();
      });
    for (const [p, type] of [
      ['/api/ml-platform/models/default/churn/register', 'application/json'],
      ['/api/ml-platform/v2/models/churn/infer', 'application/json'],
      [
        '/api/ml-platform/models/default/churn/uploads?filename=a.csv',
        'application/octet-stream',
      ],
    ]) {
      const res = await slow(p, type);
      expect({ p, status: res.status }).toEqual({ p, status: 408 });
      expect(res.ms).toBeLessThan(8000);
    }
  });
});

describe('issue 12 push attacks with a webhook secret configured', () => {
  const SECRET = 'hook-secret-for-tests';
  let b: SecurityBackend;

  beforeAll(async () => {
    b = await startSecurityBackend({
      entities: [modelEntity('churn'), modelEntity('other')],
      models: { churn: 'churn', other: 'churn' },
      events: {
        http: { topics: ['github', 'gitlab'] },
        modules: { github: { webhookSecret: SECRET } },
      },
    });
    for (const name of ['churn', 'other']) {
      await request(b.server)
        .post(api(`/models/default/${name}/register`))
        .set(b.guest)
        .send({ gitUrl: b.repo.url, gitPath: name, defaultBranch: 'main' });
    }
  });
  afterAll(() => b?.stop());

  const push = (body: object, sign: string | undefined) => {
    const text = JSON.stringify(body);
    const req = request(b.server)
      .post('/api/events/http/github')
      .set('Content-Type', 'application/json')
      .set('X-GitHub-Event', 'push');
    if (sign) {
      const { createHmac } = require('node:crypto');
      req.set(
        'X-Hub-Signature-256',
        `sha256=${createHmac('sha256', sign).update(text).digest('hex')}`,
      );
    }
    return req.send(text);
  };
  const builds = async (name: string) =>
    (
      await request(b.server)
        .get(api(`/models/default/${name}/builds?limit=200`))
        .set(b.guest)
    ).body.items;

  it('refuses unsigned and wrongly signed pushes; a signed one builds only the model it names, once per commit', async () => {
    await b.repo.writeFile('churn/NOTES.md', 'x\n');
    const sha = await b.repo.commitAndPush('Touch churn');
    const body = (after: string, extra: object = {}) => ({
      ref: 'refs/heads/main',
      after,
      repository: { clone_url: b.repo.url },
      commits: [{ modified: ['churn/NOTES.md'] }],
      ...extra,
    });
    expect((await push(body(sha), undefined)).status).toBe(403);
    expect((await push(body(sha), 'wrong-secret')).status).toBe(403);

    // Signed, but with what git would read as an option, or elsewhere.
    for (const attack of [
      body('--pathspec-from-file=/etc/hostname'),
      body(sha, { ref: 'refs/heads/--upload-pack=x' }),
      body(sha, { ref: 'refs/heads/other-branch' }),
      body(sha, { repository: { clone_url: 'https://example.com/x.git' } }),
      body(sha, { commits: 'not a list', after: ['a'.repeat(40)] }),
    ]) {
      expect((await push(attack, SECRET)).status).toBe(202);
    }
    await new Promise(r => setTimeout(r, 500));
    expect(await builds('churn')).toEqual([]);

    // Twenty signed copies of one push: one build of the one model it touches.
    const results = await Promise.all(
      Array.from({ length: 20 }, () => push(body(sha), SECRET)),
    );
    expect(results.map(r => r.status)).toEqual(Array(20).fill(202));
    const built = await waitFor(
      async () => {
        const items = await builds('churn');
        return items.length ? items : undefined;
      },
      { what: 'the push build' },
    );
    await new Promise(r => setTimeout(r, 500));
    expect((await builds('churn')).map((x: any) => x.commitSha)).toEqual([sha]);
    expect(built[0].trigger).toBe('push');
    expect(await builds('other')).toEqual([]);
  });
});
