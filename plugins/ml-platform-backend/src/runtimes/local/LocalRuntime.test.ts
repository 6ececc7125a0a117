import { mockServices } from '@backstage/backend-test-utils';
import { parseManifest } from '@internal/plugin-ml-platform-common';
import {
  ModelPackage,
  OnlineDeploymentSpec,
  OnlineStatus,
  RuntimeLogLine,
} from '@internal/plugin-ml-platform-node';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { churnExpected, churnV2Body } from '../../__testUtils__/churnReference';
import { LocalRuntime, LocalRuntimeOptions } from './LocalRuntime';

jest.setTimeout(30_000);

// Real python3 model servers on the churn example (stdlib only).
const churnDir = path.resolve(
  __dirname,
  '../../../../../examples/models/churn',
);
const expected = churnExpected();
const INFER_BODY = JSON.stringify(churnV2Body([expected[0].input]));

let tmp: string;
let schemaFile: string;
let buildDirs: Record<'b' | 'c' | 'broken' | 'slow', string>;

function writeModel(name: string, source?: string): string {
  const dir = path.join(tmp, name);
  fs.cpSync(churnDir, dir, { recursive: true });
  if (source) fs.writeFileSync(path.join(dir, 'model.py'), source);
  return dir;
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-local-runtime-'));
  const manifest = parseManifest(
    fs.readFileSync(path.join(churnDir, 'mlmodel.yaml'), 'utf8'),
  );
  schemaFile = path.join(tmp, 'schema.json');
  fs.writeFileSync(schemaFile, JSON.stringify(manifest.spec.schema));
  buildDirs = {
    b: writeModel('churn-b'),
    c: writeModel('churn-c'),
    broken: writeModel(
      'churn-broken',
      [
        'class Model:',
        '    def load(self):',
        '        raise RuntimeError("weights file is corrupt")',
        '    def predict(self, rows):',
        '        return rows',
        '',
      ].join('\n'),
    ),
    slow: writeModel(
      'churn-slow',
      [
        'import time',
        'class Model:',
        '    def load(self):',
        '        time.sleep(30)',
        '    def predict(self, rows):',
        '        return rows',
        '',
      ].join('\n'),
    ),
  };
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function pkg(
  buildId: string,
  buildVersion: number,
  modelDir = churnDir,
): ModelPackage {
  return {
    buildId,
    modelRef: 'component:default/churn',
    buildVersion,
    modelDir,
    python: 'python3',
    entrypoint: 'model:Model',
    schemaFile,
    artifactUri: `file://${modelDir}`,
    artifactDigest: `sha256:${buildId}`,
  };
}

const BUILD_A = () => pkg('build-a', 1);
const BUILD_B = () => pkg('build-b', 2, buildDirs.b);
const BUILD_C = () => pkg('build-c', 3, buildDirs.c);
const BROKEN = () => pkg('build-broken', 9, buildDirs.broken);
const SLOW = () => pkg('build-slow', 4, buildDirs.slow);

function spec(
  deploymentId: string,
  pack: ModelPackage,
  replicas: number,
): OnlineDeploymentSpec {
  return { deploymentId, modelName: 'churn', build: pack, replicas };
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

async function infer(baseUrl: string) {
  const res = await fetch(`${baseUrl}/v2/models/churn/infer`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: INFER_BODY,
  });
  return { status: res.status, body: await res.json() };
}

/**
 * What the gateway does: round-robin over the ready endpoints, and on a
 * connection error try another one.
 */
class Client {
  private next = 0;
  ok = 0;
  failures: string[] = [];
  versions: string[] = [];
  constructor(
    private readonly runtime: LocalRuntime,
    private readonly deploymentId: string,
  ) {}

  async request(): Promise<{ status: number; body: any }> {
    let lastError: unknown = new Error('no ready endpoint');
    for (let attempt = 0; attempt < 5; attempt++) {
      const endpoints = this.runtime.readyEndpoints(this.deploymentId);
      if (endpoints.length === 0) break;
      const url = endpoints[this.next++ % endpoints.length];
      try {
        return await infer(url);
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  /** Runs `concurrency` request loops until the returned stop() is called. */
  loop(concurrency = 4): () => Promise<void> {
    let running = true;
    const workers = Array.from({ length: concurrency }, async () => {
      while (running) {
        try {
          const { status, body } = await this.request();
          if (status === 200) {
            this.ok += 1;
            this.versions.push(body.model_version);
          } else {
            this.failures.push(`${status} ${JSON.stringify(body)}`);
          }
        } catch (error) {
          this.failures.push(String((error as Error).cause ?? error));
          await sleep(10); // a failing loop must not starve the event loop
        }
      }
    });
    return async () => {
      running = false;
      await Promise.all(workers);
    };
  }
}

describe('LocalRuntime', () => {
  let logDir: string;
  let runtime: LocalRuntime;
  let statuses: OnlineStatus[];
  const runtimes: LocalRuntime[] = [];
  const pids = new Set<number>();

  function createRuntime(options: Partial<LocalRuntimeOptions> = {}) {
    const created = new LocalRuntime({
      logger: mockServices.logger.mock(),
      logDir,
      // The specs carry packages already unpacked on this host.
      packages: { get: async build => build as ModelPackage },
      restartBackoff: { initialMs: 50, maxMs: 300 },
      crashLoopRestarts: 3,
      readyTimeoutMs: 15_000,
      stopGraceMs: 5_000,
      ...options,
    });
    created.onStatusChange(status => {
      statuses.push(status);
      for (const replica of status.replicas) {
        if (replica.pid) pids.add(replica.pid);
      }
    });
    runtimes.push(created);
    return created;
  }

  const status = (id: string) => runtime.getOnlineStatus(id)!;
  const waitReady = (id: string, buildId?: string) =>
    waitFor(`${id} to be ready`, () => {
      const s = runtime.getOnlineStatus(id);
      return (
        s?.state === 'ready' &&
        (!buildId || s.buildId === buildId) &&
        s.replicas.every(r => r.state === 'ready') &&
        s
      );
    });
  const logText = async (id: string, rt = runtime) =>
    (await rt.readLogs(id, { tail: 10_000 })).map(l => l.line).join('\n');

  beforeEach(() => {
    logDir = fs.mkdtempSync(path.join(tmp, 'logs-'));
    statuses = [];
    pids.clear();
    runtime = createRuntime();
  });

  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map(r => r.shutdown()));
    // Every process any runtime started is gone.
    const leftovers = [...pids].filter(alive);
    if (leftovers.length > 0) {
      throw new Error(`processes left running: ${leftovers.join(', ')}`);
    }
  });

  it('starts replicas that answer V2 infer and /invocations', async () => {
    await runtime.applyOnline(spec('d1', BUILD_A(), 2));
    expect(status('d1').state).toBe('deploying');
    expect(runtime.readyEndpoints('d1')).toEqual([]);
    expect(runtime.listOnline()).toEqual(['d1']);

    const ready = await waitReady('d1');
    expect(ready).toMatchObject({
      deploymentId: 'd1',
      desiredReplicas: 2,
      readyReplicas: 2,
      buildId: 'build-a',
    });
    const endpoints = runtime.readyEndpoints('d1');
    expect(endpoints).toHaveLength(2);
    expect(new Set(endpoints).size).toBe(2);
    expect(ready.replicas.map(r => r.url).sort()).toEqual(
      [...endpoints].sort(),
    );

    for (const url of endpoints) {
      const { status: code, body } = await infer(url);
      expect(code).toBe(200);
      expect(body).toMatchObject({ model_name: 'churn', model_version: '1' });
      const probability = body.outputs.find(
        (o: any) => o.name === 'churn_probability',
      );
      expect(probability.data[0]).toBeCloseTo(expected[0].churn_probability, 6);
      const res = await fetch(`${url}/invocations`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ dataframe_records: [expected[1].input] }),
      });
      expect(res.status).toBe(200);
      const { predictions } = await res.json();
      expect(predictions[0].churn_probability).toBeCloseTo(
        expected[1].churn_probability,
        6,
      );
    }

    // Every replica is a python3 server that exits with this backend.
    for (const replica of ready.replicas) {
      const args = execFileSync('ps', [
        '-o',
        'args=',
        '-p',
        String(replica.pid),
      ])
        .toString()
        .trim()
        .split(' ');
      expect(args).toEqual(
        expect.arrayContaining(['mlp_runtime.server', '--exit-with-parent']),
      );
      expect(args[args.indexOf('--host') + 1]).toBe('127.0.0.1');
    }

    expect(statuses[0]).toMatchObject({ state: 'deploying', readyReplicas: 0 });
    expect(statuses.at(-1)).toMatchObject({ state: 'ready', readyReplicas: 2 });

    // Idempotent: the same spec again changes nothing.
    const before = statuses.length;
    await runtime.applyOnline(spec('d1', BUILD_A(), 2));
    expect(statuses.length).toBe(before);
    expect(status('d1').replicas).toEqual(ready.replicas);
  });

  it('keeps serving when a replica is SIGKILLed and brings it back', async () => {
    await runtime.applyOnline(spec('d2', BUILD_A(), 2));
    const ready = await waitReady('d2');
    const victim = ready.replicas[0];
    const client = new Client(runtime, 'd2');
    const stopLoop = client.loop();
    await sleep(300);

    process.kill(victim.pid!, 'SIGKILL');
    await waitFor(
      'the dead replica to leave the ready set',
      () => !runtime.readyEndpoints('d2').includes(victim.url!),
    );
    const back = await waitFor('the replica to come back', () => {
      const s = status('d2');
      const replica = s.replicas.find(r => r.id === victim.id);
      return (
        s.state === 'ready' &&
        replica?.state === 'ready' &&
        replica.pid !== victim.pid &&
        s
      );
    });
    await sleep(300);
    await stopLoop();

    expect(client.failures).toEqual([]);
    expect(client.ok).toBeGreaterThan(20);
    expect(back.readyReplicas).toBe(2);
    expect(back.replicas.find(r => r.id === victim.id)).toMatchObject({
      restarts: 1,
      lastError: 'was killed by SIGKILL',
    });
    expect(alive(victim.pid!)).toBe(false);
    const degraded = statuses.find(s => s.state === 'degraded');
    expect(degraded?.reason).toMatch(/replica r1 was killed by SIGKILL/);
    expect(degraded?.readyReplicas).toBe(1);

    const logs = await logText('d2');
    expect(logs).toContain('replica r1 was killed by SIGKILL');
    expect(logs).toMatch(/restarting r1 in \d+ms/);
  });

  it('rolls out a new build under load without a failed request', async () => {
    await runtime.applyOnline(spec('d3', BUILD_A(), 2));
    const before = await waitReady('d3');
    const client = new Client(runtime, 'd3');
    const stopLoop = client.loop();
    await sleep(300);

    const rolloutStart = statuses.length;
    await runtime.applyOnline(spec('d3', BUILD_B(), 2));
    expect(status('d3')).toMatchObject({
      state: 'deploying',
      buildId: 'build-a',
    });
    await waitReady('d3', 'build-b');
    await sleep(300);
    await stopLoop();

    expect(client.failures).toEqual([]);
    expect(new Set(client.versions)).toEqual(new Set(['1', '2']));
    // After the rollout only the new build answers.
    const after = new Client(runtime, 'd3');
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => after.request()),
    );
    expect(answers.map(a => a.body.model_version)).toEqual(Array(20).fill('2'));
    const rolled = status('d3');
    expect(rolled.replicas.map(r => r.buildId)).toEqual(['build-b', 'build-b']);
    await waitFor('the old replicas to exit', () =>
      before.replicas.every(r => !alive(r.pid!)),
    );
    // Surge: the old build served until the new one was ready.
    const during = statuses.slice(rolloutStart);
    expect(during.some(s => s.state === 'degraded')).toBe(false);
    expect(
      during.every(s => s.buildId === 'build-b' || s.readyReplicas >= 2),
    ).toBe(true);
    expect(during.find(s => s.buildId === 'build-b')).toMatchObject({
      state: 'ready',
      readyReplicas: 2,
    });
    expect(await logText('d3')).toContain('rolled out build build-b');
  });

  it('reports a crash loop as degraded with the Python error and keeps retrying', async () => {
    await runtime.applyOnline(spec('d4', BROKEN(), 1));
    const degraded = await waitFor('a crash loop', () => {
      const s = status('d4');
      return s.state === 'degraded' && s;
    });
    expect(degraded.reason).toMatch(
      /^replica r1 crashed 3 times: exited with code 4: .*RuntimeError: weights file is corrupt/,
    );
    expect(degraded.replicas[0]).toMatchObject({ state: 'failed' });
    expect(runtime.readyEndpoints('d4')).toEqual([]);
    // Still retrying, at the max backoff.
    const restarts = degraded.replicas[0].restarts;
    await waitFor(
      'another restart',
      () => status('d4').replicas[0].restarts > restarts,
    );
    expect(status('d4').state).toBe('degraded');
    const logs = await logText('d4');
    expect(logs).toContain('replica r1 exited with code 4');
    expect(logs).toContain('restarting r1 in 300ms');
    expect(logs).toMatch(
      /model load failed: .*RuntimeError: weights file is corrupt/,
    );
  });

  it('counts load timeouts and a missing interpreter as failures', async () => {
    runtime = createRuntime({ readyTimeoutMs: 400 });
    await runtime.applyOnline(spec('slow-load', SLOW(), 1));
    await runtime.applyOnline(
      spec(
        'no-python',
        { ...BUILD_A(), python: path.join(tmp, 'no-python') },
        1,
      ),
    );
    const timedOut = await waitFor('the load timeout crash loop', () => {
      const s = runtime.getOnlineStatus('slow-load')!;
      return s.state === 'degraded' && s;
    });
    expect(timedOut.reason).toBe(
      'replica r1 crashed 3 times: was not ready after 400 ms',
    );
    const missing = await waitFor('the spawn failure crash loop', () => {
      const s = runtime.getOnlineStatus('no-python')!;
      return s.state === 'degraded' && s;
    });
    expect(missing.reason).toMatch(
      /^replica r1 crashed \d+ times: could not start python: spawn .*no-python ENOENT$/,
    );
  });

  it('keeps the old build serving when the new one cannot start, then converges to the latest spec', async () => {
    await runtime.applyOnline(spec('d5', BUILD_A(), 2));
    const good = await waitReady('d5');
    const client = new Client(runtime, 'd5');
    const stopLoop = client.loop(2);

    await runtime.applyOnline(spec('d5', BROKEN(), 2));
    const degraded = await waitFor('the broken rollout to be degraded', () => {
      const s = status('d5');
      return s.state === 'degraded' && s;
    });
    expect(degraded.reason).toMatch(/RuntimeError: weights file is corrupt/);
    expect(degraded.reason).toMatch(/build build-a keeps serving/);
    expect(degraded).toMatchObject({ buildId: 'build-a', readyReplicas: 2 });
    expect(runtime.readyEndpoints('d5').sort()).toEqual(
      good.replicas.map(r => r.url).sort(),
    );
    expect(good.replicas.every(r => alive(r.pid!))).toBe(true);

    // A newer spec during the stuck rollout wins.
    await runtime.applyOnline(spec('d5', BUILD_C(), 2));
    const done = await waitReady('d5', 'build-c');
    await stopLoop();
    expect(client.failures).toEqual([]);
    expect(new Set(client.versions)).toEqual(new Set(['1', '3']));
    expect(done.replicas.map(r => r.buildId)).toEqual(['build-c', 'build-c']);
    await waitFor('old and broken replicas to exit', () =>
      [...pids].every(
        pid => done.replicas.some(r => r.pid === pid) || !alive(pid),
      ),
    );
    const answers = await Promise.all(
      runtime.readyEndpoints('d5').map(url => infer(url)),
    );
    expect(answers.map(a => a.body.model_version)).toEqual(['3', '3']);
  });

  it('scales 2 -> 1 -> 0 -> 1', async () => {
    await runtime.applyOnline(spec('d6', BUILD_A(), 2));
    const two = await waitReady('d6');

    await runtime.applyOnline(spec('d6', BUILD_A(), 1));
    // Out of the ready set before its process could even exit.
    const removed = two.replicas.find(
      r => !runtime.readyEndpoints('d6').includes(r.url!),
    )!;
    expect(runtime.readyEndpoints('d6')).toHaveLength(1);
    expect(alive(removed.pid!)).toBe(true);
    const one = await waitFor('one replica', () => {
      const s = status('d6');
      return s.state === 'ready' && s.replicas.length === 1 && s;
    });
    expect(one.readyReplicas).toBe(1);
    expect(alive(removed.pid!)).toBe(false);
    expect((await infer(runtime.readyEndpoints('d6')[0])).status).toBe(200);

    await runtime.applyOnline(spec('d6', BUILD_A(), 0));
    expect(status('d6')).toMatchObject({
      state: 'stopped',
      desiredReplicas: 0,
    });
    expect(runtime.readyEndpoints('d6')).toEqual([]);
    await waitFor(
      'all replicas gone',
      () => status('d6').replicas.length === 0,
    );
    expect(two.replicas.filter(r => alive(r.pid!))).toEqual([]);
    expect(runtime.listOnline()).toEqual(['d6']);

    await runtime.applyOnline(spec('d6', BUILD_A(), 1));
    expect(status('d6').state).toBe('deploying');
    const back = await waitReady('d6');
    expect(back.readyReplicas).toBe(1);
    expect((await infer(runtime.readyEndpoints('d6')[0])).status).toBe(200);
  });

  it('keeps logs in a file that outlives the runtime, with seq continuing', async () => {
    const live: RuntimeLogLine[] = [];
    const unsubscribe = runtime.onLog('d7', line => live.push(line));
    await runtime.applyOnline(spec('d7', BUILD_A(), 1));
    const ready = await waitReady('d7');
    for (let i = 0; i < 3; i++) {
      expect((await infer(runtime.readyEndpoints('d7')[0])).status).toBe(200);
    }
    // The server writes access lines in batches.
    await waitFor(
      'access lines',
      async () =>
        (
          await runtime.readLogs('d7', { tail: 50 })
        ).filter(l => l.line.startsWith('POST /v2/models/churn/infer 200'))
          .length === 3,
    );
    const lines = await runtime.readLogs('d7', { tail: 1000 });
    expect(lines.map(l => l.seq)).toEqual(
      Array.from({ length: lines.length }, (_, i) => i + 1),
    );
    expect(live).toEqual(lines);
    const access = lines.find(l => l.line.startsWith('POST '))!;
    expect(access).toMatchObject({ stream: 'stderr', replica: 'r1' });
    const started = lines.find(l => l.line.startsWith('replica r1 started'))!;
    expect(started).toMatchObject({ stream: 'runtime' });
    expect(started.line).toBe(
      `replica r1 started pid ${ready.replicas[0].pid} on port ${
        new URL(ready.replicas[0].url!).port
      }`,
    );
    unsubscribe();
    await runtime.stopOnline('d7');
    expect(runtime.getOnlineStatus('d7')).toBeUndefined();
    const all = await runtime.readLogs('d7', { tail: 1000 });
    const lastSeq = all.at(-1)!.seq;
    expect(all.at(-1)!.line).toBe('deployment stopped');
    expect(live.length).toBeLessThan(all.length);
    const file = fs
      .readFileSync(path.join(logDir, 'd7.log'), 'utf8')
      .trim()
      .split('\n')
      .map(l => JSON.parse(l));
    expect(file).toEqual(all);

    // A new runtime (a restarted backend) on the same directory.
    await runtime.shutdown();
    runtime = createRuntime();
    expect(await runtime.readLogs('d7', { tail: 3 })).toEqual(all.slice(-3));
    expect(await runtime.readLogs('d7', { afterSeq: lastSeq - 2 })).toEqual(
      all.slice(-2),
    );
    await runtime.applyOnline(spec('d7', BUILD_A(), 1));
    await waitReady('d7');
    const next = await runtime.readLogs('d7', { afterSeq: lastSeq });
    expect(next[0]).toMatchObject({
      seq: lastSeq + 1,
      stream: 'runtime',
      line: 'deploying build build-a (version 1) with 1 replica(s)',
    });
    expect(next.map(l => l.seq)).toEqual(
      Array.from({ length: next.length }, (_, i) => lastSeq + 1 + i),
    );
    expect(
      await runtime.readLogs('d7', { afterSeq: lastSeq, tail: 2 }),
    ).toEqual(next.slice(0, 2));
    expect(await runtime.readLogs('unknown')).toEqual([]);
  });

  it('stops a deployment whose replica is still loading, and shutdown stops everything', async () => {
    await runtime.applyOnline(spec('slow', SLOW(), 1));
    const loading = await waitFor(
      'a pid',
      () => status('slow').replicas[0].pid,
    );
    expect(status('slow').replicas[0].state).toBe('starting');
    const started = Date.now();
    await runtime.stopOnline('slow');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(alive(loading)).toBe(false);
    expect(runtime.listOnline()).toEqual([]);
    expect(runtime.getOnlineStatus('slow')).toBeUndefined();
    expect(statuses.at(-1)).toMatchObject({
      deploymentId: 'slow',
      state: 'stopped',
      replicas: [],
    });

    await runtime.applyOnline(spec('e1', BUILD_A(), 2));
    await runtime.applyOnline(spec('e2', BUILD_B(), 1));
    await runtime.applyOnline(spec('e3', SLOW(), 1));
    await waitReady('e1');
    await waitReady('e2');
    const running = ['e1', 'e2', 'e3'].flatMap(id =>
      status(id).replicas.map(r => r.pid!),
    );
    expect(running.filter(alive)).toHaveLength(4);
    // An apply still opening its logs when shutdown begins must not start anything.
    const late = runtime.applyOnline(spec('e5', BUILD_A(), 1));
    await Promise.resolve();
    await runtime.shutdown();
    await expect(late).rejects.toThrow(/shutting down/);
    expect(running.filter(alive)).toEqual([]);
    expect(runtime.listOnline()).toEqual([]);
    await expect(runtime.applyOnline(spec('e4', BUILD_A(), 1))).rejects.toThrow(
      /shutting down/,
    );
  });
});
