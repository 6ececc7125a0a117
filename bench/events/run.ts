/* eslint-disable no-console */
// Event in -> prediction out, against the gateway's HTTP throughput for the
// same model, and the gateway with prediction events on and off.
//
//   node --require ./node_modules/@backstage/cli-node/config/nodeTransform.cjs \
//     bench/events/run.ts [--duration 6] [--rounds 3] [--phases 2] [--sequential 300]
//
// The ML platform plugin runs in this process in a test backend with the
// real events backend (HTTP ingress), the real catalog service mock and
// the plugin's database in a SQLite file as in the embedded default; the
// load generator (autocannon's CLI) is a child process, so it does not
// share the backend's event loop. A phase is one backend start with
// `mlPlatform.events.enabled` on or off (sample rate 1.0); phases
// alternate on, off, on, off. In each phase the churn example is built
// and deployed with one replica; each round loads the replica directly,
// then through the gateway, then (events on) posts events with unique ids
// to `POST /api/events/http/bench-orders` that a subscription predicts,
// counting the predictions that reach the output topic. Ratios are per
// round; the summary has the median and the range over rounds.
import { createBackendModule } from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { databaseServiceFactory } from '@backstage/backend-defaults/database';
import eventsPlugin from '@backstage/plugin-events-backend';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  eventsServiceFactory,
  eventsServiceRef,
} from '@backstage/plugin-events-node';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import churnCustomer from '../lib/churnCustomer.json';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { mlPlatformPlugin } from '../../plugins/ml-platform-backend/src/plugin';
import { TestDataPlane } from '../../plugins/ml-platform-backend/src/__testUtils__/dataPlane';
import {
  churnV2Body,
  mlModelComponent,
} from '../../plugins/ml-platform-backend/src/__testUtils__/churnReference';
import { ModelRepository } from '../../plugins/ml-platform-backend/src/__testUtils__/modelRepository';

const root = path.resolve(__dirname, '../..');
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const duration = arg('duration', 6);
const rounds = arg('rounds', 3);
const pairs = arg('phases', 2);
const sequentialCount = arg('sequential', 300);
const connections = 8;
/**
 * `--profile F`, `--profile-gateway F`: a V8 CPU profile of this process
 * (the backend) over the first round's event load, or its gateway load;
 * `--profile-gateway-off F`: the gateway load of the first round with
 * prediction events off, to compare with the one on.
 */
const profileFileOf = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? path.resolve(process.argv[i + 1]) : undefined;
};
const profileFiles = {
  events: profileFileOf('--profile'),
  gateway: profileFileOf('--profile-gateway'),
  gatewayOff: profileFileOf('--profile-gateway-off'),
};

/** The backend's (this process's) CPU time in µs, user and system. */
const cpuUs = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/** Runs `load`, with the CPU profiler on when a file is given. */
async function profiled<T>(file: string | undefined, load: () => Promise<T>) {
  if (!file) return load();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await load();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    fs.writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  }
}
const TOPIC = 'bench-orders';
const OUTPUT = 'ml-platform.prediction.churn';
const USER = { Authorization: 'Bearer mock-user-token' };

const row: Record<string, unknown> = churnCustomer;
const v2 = JSON.stringify(churnV2Body([row]));
/** An order event with its id. */
const eventBody = (id: string) =>
  JSON.stringify({ id, type: 'churn-check', customer: row });

/** Output events as they reach the output topic, with their arrival time. */
const arrivals = new Map<string, number>();
let outputs = 0;
const waiting = new Map<string, () => void>();
const collector = createBackendModule({
  pluginId: 'events',
  moduleId: 'bench-collector',
  register(env) {
    env.registerInit({
      deps: { events: eventsServiceRef },
      async init({ events }) {
        await events.subscribe({
          id: 'bench-collector',
          topics: [OUTPUT],
          async onEvent(event) {
            const id = (event.eventPayload as { sourceEventId: string })
              .sourceEventId;
            outputs++;
            arrivals.set(id, performance.now());
            waiting.get(id)?.();
          },
        });
      },
    });
  },
});

/** Of an even count, the mean of the two middle values (before 2026-12-05, the lower one). */
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  if (!s.length) return NaN;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const spread = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return {
    median: round3(median(xs)),
    min: round3(s[0]),
    max: round3(s.at(-1)!),
  };
};
const round3 = (x: number) => Number(x.toFixed(3));
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

async function waitUntil<T>(
  check: () => Promise<T>,
  what: string,
  ms = 120_000,
) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** autocannon's CLI in a child process; its JSON summary. */
function autocannon(
  url: string,
  body: string,
  headers: Record<string, string>,
  seconds: number,
): Promise<{
  rps: number;
  total: number;
  p50: number;
  p99: number;
  errors: number;
}> {
  const args = [
    path.join(root, 'node_modules/autocannon/autocannon.js'),
    '-j',
    '-c',
    String(connections),
    '-d',
    String(seconds),
    '-m',
    'POST',
    '-H',
    'Content-Type=application/json',
    ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]),
    '-b',
    body,
    url,
  ];
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      args,
      { maxBuffer: 1 << 24 },
      (error, stdout) => {
        if (error) {
          reject(error);
          return;
        }
        const r = JSON.parse(stdout);
        resolve({
          rps: r.requests.average,
          total: r.requests.total,
          p50: r.latency.p50,
          p99: r.latency.p99,
          errors: r.errors + r.non2xx,
        });
      },
    ),
  );
}

/** Unique events to the ingress, from a child process (postEvents.mjs). */
function postEvents(
  url: string,
  prefix: string,
  seconds: number,
): Promise<{ rps: number; total: number; errors: number }> {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [
        path.join(__dirname, 'postEvents.mjs'),
        url,
        prefix,
        String(seconds),
        String(connections),
      ],
      { maxBuffer: 1 << 24 },
      (error, stdout) => {
        if (error) {
          reject(error);
          return;
        }
        const r = JSON.parse(stdout);
        resolve({
          rps: r.requests.average,
          total: r.requests.total,
          errors: r.errors + r.non2xx,
        });
      },
    ),
  );
}

async function runPhase(index: number, eventsOn: boolean) {
  const repo = await ModelRepository.create({ churn: 'churn' });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-bench-events-'));
  fs.chmodSync(dataDir, 0o755);
  const dataPlane = new TestDataPlane();
  const backend = await startTestBackend({
    features: [
      mlPlatformPlugin,
      dataPlane.factory,
      catalogServiceMock.factory({ entities: [mlModelComponent('churn')] }),
      eventsPlugin,
      eventsServiceFactory,
      // The plugin's SQLite file, as the embedded default (not in memory).
      databaseServiceFactory,
      collector,
      mockServices.rootConfig.factory({
        data: {
          // As app-config.yaml, the embedded default: one instance, no bus.
          backend: {
            database: {
              client: 'better-sqlite3',
              connection: { directory: path.join(dataDir, 'db') },
            },
          },
          events: { useEventBus: 'never', http: { topics: [TOPIC] } },
          mlPlatform: {
            dataDir,
            git: { root: repo.root },
            builds: { pollInterval: 0 },
            seedRepositories: [],
            events: { enabled: eventsOn, sampleRate: 1 },
          },
        },
      }),
    ],
  });
  dataPlane.attach(backend.server);
  const port = (backend.server.address() as { port: number }).port;
  const base = `http://127.0.0.1:${port}`;
  const api = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${base}/api/ml-platform${p}`, {
      method,
      headers: { ...USER, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok)
      throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : res.json();
  };
  const phase: Record<string, any> = { eventsOn, rounds: [] };
  try {
    await api('POST', '/models/default/churn/register', {
      gitUrl: repo.url,
      gitPath: 'churn',
      defaultBranch: 'main',
    });
    const queued = await api('POST', '/models/default/churn/builds', {});
    const build = await waitUntil(async () => {
      const b = await api('GET', `/builds/${queued.id}`);
      if (b.status === 'failed') throw new Error(b.failureReason);
      return b.status === 'succeeded' ? b : undefined;
    }, 'the build');
    const deployment = await api('POST', '/models/default/churn/deployments', {
      buildId: build.id,
      type: 'online',
      replicas: 1,
      minReplicas: 1,
    });
    const ready = await waitUntil(async () => {
      const d = await api('GET', `/deployments/${deployment.id}`);
      return d.status === 'ready' ? d : undefined;
    }, 'the deployment');
    const urls = {
      direct: `${ready.replicaStatus[0].url}/v2/models/churn/infer`,
      gateway: `${base}/api/ml-platform/v2/models/churn/infer`,
    };
    if (eventsOn) {
      await api('POST', '/models/default/churn/subscriptions', {
        deploymentId: deployment.id,
        topic: TOPIC,
        filter: { path: '$.type', equals: 'churn-check' },
        mapping: {
          columns: Object.fromEntries(
            Object.keys(row).map(k => [k, `$.customer.${k}`]),
          ),
        },
      });
    }
    const ingress = `${base}/api/events/http/${TOPIC}`;
    // Warm up every path.
    await autocannon(urls.direct, v2, {}, 2);
    await autocannon(urls.gateway, v2, USER, 2);

    for (let r = 0; r < rounds; r++) {
      const result: Record<string, any> = {};
      result.direct = await autocannon(urls.direct, v2, {}, duration);
      const gatewayCpu = cpuUs();
      // The first on phase's first round, and the first off phase's.
      const gatewayProfile =
        r === 0 && index === 0
          ? profileFiles.gateway
          : r === 0 && index === 1
          ? profileFiles.gatewayOff
          : undefined;
      result.gateway = await profiled(gatewayProfile, () =>
        autocannon(urls.gateway, v2, USER, duration),
      );
      // The backend's CPU per gateway call (all its threads: GC included).
      result.gateway.cpuUsPerCall = Math.round(
        (cpuUs() - gatewayCpu) / result.gateway.total,
      );
      if (eventsOn) {
        const before = outputs;
        const eventsCpu = cpuUs();
        const t0 = performance.now();
        const load = await profiled(
          index === 0 && r === 0 ? profileFiles.events : undefined,
          () => postEvents(ingress, `r${index}-${r}`, duration),
        );
        const inWindow = outputs - before;
        const windowS = (performance.now() - t0) / 1000;
        // Then the backlog drains: how long until every accepted event is out.
        const accepted = load.total - load.errors;
        const drained = await waitUntil(
          async () => outputs - before >= accepted,
          'the event backlog to drain',
          300_000,
        ).then(() => (performance.now() - t0) / 1000);
        result.events = {
          posted: load.total,
          postedPerS: load.rps,
          errors: load.errors,
          predicted: outputs - before,
          // Predictions on the output topic per second of load.
          eventsPerS: inWindow / windowS,
          // The backend's CPU per event, ingress to output, backlog included.
          cpuUsPerEvent: Math.round((cpuUs() - eventsCpu) / accepted),
          // All accepted events predicted, per second until the last one.
          drainedPerS: accepted / drained,
        };
      }
      phase.rounds.push(result);
      console.log(
        `phase ${index} (events ${
          eventsOn ? 'on' : 'off'
        }) round ${r}: direct ${Math.round(
          result.direct.rps,
        )} req/s, gateway ${Math.round(result.gateway.rps)} req/s ${
          result.gateway.cpuUsPerCall
        } µs CPU/call${
          result.events
            ? `, events in ${Math.round(
                result.events.postedPerS,
              )}/s, predicted ${Math.round(
                result.events.eventsPerS,
              )}/s during load, ${Math.round(
                result.events.drainedPerS,
              )}/s until drained, ${result.events.cpuUsPerEvent} µs CPU/event`
            : ''
        }`,
      );
    }

    if (eventsOn) {
      // Sequential: one event at a time, from the POST to its prediction
      // on the output topic.
      const times: number[] = [];
      for (let i = 0; i < sequentialCount; i++) {
        const id = `seq-${index}-${i}`;
        const out = new Promise<void>(resolve => waiting.set(id, resolve));
        const t0 = performance.now();
        const res = await fetch(ingress, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: eventBody(id),
        });
        await res.arrayBuffer();
        await out;
        waiting.delete(id);
        times.push(arrivals.get(id)! - t0);
      }
      times.sort((a, b) => a - b);
      phase.sequential = {
        count: times.length,
        p50ms: round3(times[Math.floor(times.length * 0.5)]),
        p99ms: round3(times[Math.floor(times.length * 0.99)]),
      };
      console.log(
        `phase ${index} event -> prediction, sequential:`,
        phase.sequential,
      );
    }
    return phase;
  } finally {
    await backend.stop();
    await repo.remove();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main() {
  const loadBefore = os.loadavg();
  const phases = [];
  for (let p = 0; p < pairs * 2; p++) {
    phases.push(await runPhase(p, p % 2 === 0));
  }
  const on = phases.filter(p => p.eventsOn);
  const off = phases.filter(p => !p.eventsOn);
  const roundsOf = (list: any[]) => list.flatMap(p => p.rounds);
  const gatewayOverDirect = (list: any[]) =>
    roundsOf(list).map(r => r.gateway.rps / r.direct.rps);
  const onRatio = spread(gatewayOverDirect(on));
  const offRatio = spread(gatewayOverDirect(off));
  const summary = {
    connections,
    duration,
    rounds,
    phases: pairs * 2,
    loadAverage: { before: loadBefore, after: os.loadavg() },
    eventPath: {
      // Target: p50 < 5 ms.
      sequentialP50Ms: on.map(p => p.sequential.p50ms),
      sequentialP99Ms: on.map(p => p.sequential.p99ms),
      // Target: >= 0.5 of the gateway's HTTP throughput, same round.
      eventsOverGateway: spread(
        roundsOf(on).map(r => r.events.eventsPerS / r.gateway.rps),
      ),
      drainedOverGateway: spread(
        roundsOf(on).map(r => r.events.drainedPerS / r.gateway.rps),
      ),
      eventsPerS: spread(roundsOf(on).map(r => r.events.eventsPerS)),
      gatewayRps: spread(roundsOf(on).map(r => r.gateway.rps)),
      cpuUsPerEvent: spread(roundsOf(on).map(r => r.events.cpuUsPerEvent)),
    },
    predictionEvents: {
      // Target: gateway throughput with events on at most 10 % lower than off.
      onOverOff: round3(onRatio.median / offRatio.median),
      gatewayOverDirect: { on: onRatio, off: offRatio },
      cpuUsPerCall: {
        on: spread(roundsOf(on).map(r => r.gateway.cpuUsPerCall)),
        off: spread(roundsOf(off).map(r => r.gateway.cpuUsPerCall)),
      },
    },
  };
  console.log(JSON.stringify(summary, null, 2));
  const outIndex = process.argv.indexOf('--out');
  fs.writeFileSync(
    outIndex >= 0
      ? path.resolve(process.argv[outIndex + 1])
      : path.join(__dirname, 'results.json'),
    `${JSON.stringify({ summary, phases }, null, 2)}\n`,
  );
  process.exit(0);
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
