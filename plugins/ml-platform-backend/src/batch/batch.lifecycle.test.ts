import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import knexFactory from 'knex';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { mlPlatformPlugin } from '../plugin';
import {
  churnReference,
  churnRow,
  writeChurnCsv,
} from '../__testUtils__/churnReference';
import { ModelRepository, waitFor } from '../__testUtils__/modelRepository';
import { api, buildModel, resultText } from '../__testUtils__/platformApi';

jest.setTimeout(240_000);

describe('batch executions across a backend restart', () => {
  it('resumes from the succeeded chunks: every input row exactly once in the output', async () => {
    const repo = await ModelRepository.create({ churn: 'churn' });
    const tmp = await fs.promises.mkdtemp(
      path.join(os.tmpdir(), 'mlp-batch-restart-'),
    );
    // Model processes run as the sandbox user, who must pass through here.
    await fs.promises.chmod(tmp, 0o755);
    const db = knexFactory({
      client: 'better-sqlite3',
      connection: { filename: path.join(tmp, 'ml-platform.sqlite') },
      useNullAsDefault: true,
    });
    const input = path.join(tmp, 'inputs', 'customers.csv');
    await fs.promises.mkdir(path.dirname(input), { recursive: true });
    await writeChurnCsv(input, 100_000);
    const start = () =>
      startTestBackend({
        features: [
          mlPlatformPlugin,
          schedulerServiceFactory,
          catalogServiceMock.factory({
            entities: [
              {
                apiVersion: 'backstage.io/v1alpha1',
                kind: 'Component',
                metadata: { name: 'churn', namespace: 'default' },
                spec: { type: 'ml-model', owner: 'group:default/data-science' },
              },
            ],
          }),
          mockServices.database.factory({ knex: db }),
          mockServices.rootConfig.factory({
            data: {
              mlPlatform: {
                dataDir: path.join(tmp, 'data'),
                // Test repositories are local: under the git root, as the policy wants.
                git: { root: repo.root },
                builds: { pollInterval: 0, heartbeatInterval: 200 },
                batch: {
                  allowedInputRoots: [path.dirname(input)],
                  heartbeatInterval: 200,
                  staleAfter: 1000,
                },
              },
            },
          }),
        ],
      });

    const first = await start();
    await request(first.server)
      .post(api('/models/default/churn/register'))
      .send({ gitUrl: repo.url, gitPath: 'churn', defaultBranch: 'main' });
    const build = await buildModel(first.server, 'churn');
    const created = await request(first.server)
      .post(api('/models/default/churn/executions'))
      .send({
        buildId: build.id,
        input: { type: 'path', path: input },
        output: { type: 'file', format: 'jsonl' },
        chunkSize: 2000,
        parallelism: 1,
      });
    expect(created.status).toBe(202);
    const id = created.body.id;
    const before = await waitFor(
      async () => {
        const e = (await request(first.server).get(api(`/executions/${id}`)))
          .body;
        return e.chunksDone >= 5 ? e : undefined;
      },
      { what: 'five chunks before the restart' },
    );
    expect(before.status).toBe('running');
    await first.stop();
    const doneBefore = (
      await db('chunks').where({ execution_id: id, status: 'succeeded' })
    ).map(c => c.seq);
    expect(doneBefore.length).toBeGreaterThanOrEqual(5);
    expect(doneBefore.length).toBeLessThan(50);

    const second = await start();
    const execution = await waitFor(
      async () => {
        const e = (await request(second.server).get(api(`/executions/${id}`)))
          .body;
        return ['succeeded', 'failed', 'cancelled'].includes(e.status)
          ? e
          : undefined;
      },
      { what: 'the resumed execution', timeoutMs: 180_000 },
    );
    expect(execution.error).toBeUndefined();
    expect(execution).toMatchObject({
      status: 'succeeded',
      chunksDone: 50,
      rowsDone: 100_000,
    });

    // Chunks done before the restart were not run again.
    const chunks = (
      await request(second.server).get(api(`/executions/${id}/chunks`))
    ).body.items;
    for (const seq of doneBefore) {
      expect(chunks.find((c: any) => c.seq === seq).attempts).toBe(1);
    }

    const lines = (await resultText(second.server, id))
      .split('\n')
      .filter(Boolean);
    expect(lines).toHaveLength(100_000);
    const seen = new Set<number>();
    const probability = churnReference();
    for (const line of lines) {
      const record = JSON.parse(line);
      seen.add(record.row_id);
      if (
        Math.abs(
          record.churn_probability - probability(churnRow(record.row_id)),
        ) > 1e-12
      ) {
        throw new Error(`row ${record.row_id} has a wrong prediction`);
      }
    }
    expect(seen.size).toBe(100_000);

    await second.stop();
    await db.destroy();
    await repo.remove();
    await fs.promises.rm(tmp, { recursive: true, force: true });
  });
});
