import { databaseServiceFactory } from '@backstage/backend-defaults/database';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import request from 'supertest';
import { mlPlatformPlugin } from '../plugin';
import {
  churnExpected,
  mlModelComponent,
} from '../__testUtils__/churnReference';
import { ModelRepository, waitFor } from '../__testUtils__/modelRepository';
import { api, buildModel } from '../__testUtils__/platformApi';

jest.setTimeout(180_000);

const POSTGRES =
  process.env.BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING;
const rows = churnExpected().map(e => e.input);

/** Model server processes this test's backends started (their parent is this process). */
/** Model servers that are children of this process. */
function childReplicas(): number[] {
  return execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map(line => line.trim().split(/\s+/))
    .filter(
      ([, ppid, ...args]) =>
        Number(ppid) === process.pid &&
        args.join(' ').includes('mlp_runtime.server'),
    )
    .map(([pid]) => Number(pid));
}

// Several instances share one PostgreSQL database (SQLite is one process's).
(POSTGRES ? describe : describe.skip)(
  'two backend instances on one PostgreSQL database',
  () => {
    const prefix = `mlp_two_${randomBytes(4).toString('hex')}_`;
    let repo: ModelRepository;
    let root: string;
    const backends: Array<{ server: any; stop: () => Promise<void> }> = [];

    async function startInstance(name: string) {
      const backend = await startTestBackend({
        features: [
          mlPlatformPlugin,
          databaseServiceFactory,
          schedulerServiceFactory,
          catalogServiceMock.factory({
            entities: [mlModelComponent('churn')],
          }),
          mockServices.rootConfig.factory({
            data: {
              backend: {
                database: { client: 'pg', connection: POSTGRES, prefix },
              },
              mlPlatform: {
                // Each instance its own files; artifacts on a shared volume.
                dataDir: path.join(root, name),
                artifacts: { local: { dir: path.join(root, 'artifacts') } },
                git: { root: repo.root },
                builds: { pollInterval: 0, heartbeatInterval: 200 },
                online: { reconcileInterval: 300 },
              },
            },
          }),
        ],
      });
      backends.push(backend);
      return backend;
    }

    beforeAll(async () => {
      repo = await ModelRepository.create({ churn: 'churn' });
      root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-two-'));
    });

    afterAll(async () => {
      for (const backend of backends) await backend.stop().catch(() => {});
      await repo?.remove();
      await fs.promises.rm(root, { recursive: true, force: true });
      const admin = knexFactory({ client: 'pg', connection: POSTGRES });
      const dbs = await admin
        .select('datname')
        .from('pg_database')
        .where('datname', 'like', `${prefix}%`);
      for (const { datname } of dbs) {
        await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [datname]);
      }
      await admin.destroy();
    });

    it('runs one set of replicas for a deployment, served by both, taken over when its instance stops', async () => {
      // This test's replicas: not one another test file left in this worker.
      const before = new Set(childReplicas());
      const replicaProcesses = () =>
        childReplicas().filter(pid => !before.has(pid));
      const a = await startInstance('a');
      const b = await startInstance('b');
      await request(a.server)
        .post(api('/models/default/churn/register'))
        .send({ gitUrl: repo.url, gitPath: 'churn', defaultBranch: 'main' });
      const build = await buildModel(a.server, 'churn');

      // Deployed through B; both instances reconcile every 300 ms.
      const created = await request(b.server)
        .post(api('/models/default/churn/deployments'))
        .send({ buildId: build.id, type: 'online', replicas: 2 });
      expect(created.status).toBe(201);
      const id = created.body.id;
      const ready = async (server: any) =>
        waitFor(
          async () => {
            const d = (await request(server).get(api(`/deployments/${id}`)))
              .body;
            return d.status === 'ready' &&
              d.readyReplicas === 2 &&
              d.replicaStatus?.filter((r: any) => r.state === 'ready')
                .length === 2
              ? d
              : undefined;
          },
          { what: 'two ready replicas', timeoutMs: 60_000 },
        );
      const first = await ready(a.server);

      // Many reconciles later there are still two processes, not four.
      const seen = new Set<number>();
      for (let i = 0; i < 10; i++) {
        const pids = replicaProcesses();
        pids.forEach(pid => seen.add(pid));
        expect(pids).toHaveLength(2);
        await new Promise(r => setTimeout(r, 200));
      }
      expect([...seen].sort()).toEqual(
        first.replicaStatus.map((r: any) => r.pid).sort(),
      );
      // Both instances see the same replicas and route calls to them.
      const fromB = await ready(b.server);
      expect(fromB.replicaStatus.map((r: any) => r.url).sort()).toEqual(
        first.replicaStatus.map((r: any) => r.url).sort(),
      );
      for (const backend of [a, b]) {
        const predicted = await request(backend.server)
          .post(api('/models/default/churn/predict'))
          .send({ dataframe_records: rows.slice(0, 3) });
        expect(predicted.status).toBe(200);
        expect(predicted.body.predictions).toHaveLength(3);
      }

      // A stops (it may or may not have been the one driving it): B keeps
      // or takes over one set of replicas and serves.
      await a.stop();
      backends.splice(backends.indexOf(a), 1);
      const after = await ready(b.server);
      await waitFor(async () => replicaProcesses().length === 2, {
        what: 'two replica processes after the takeover',
      });
      expect(replicaProcesses().sort((x, y) => x - y)).toEqual(
        after.replicaStatus
          .map((r: any) => r.pid)
          .sort((x: number, y: number) => x - y),
      );
      const predicted = await request(b.server)
        .post(api('/models/default/churn/predict'))
        .send({ dataframe_records: rows.slice(0, 3) });
      expect(predicted.status).toBe(200);
    });
  },
);
