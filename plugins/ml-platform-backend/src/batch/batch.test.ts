import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  asyncBufferFromFile,
  parquetMetadataAsync,
  parquetReadObjects,
} from 'hyparquet';
import knexFactory, { Knex } from 'knex';
import { execFileSync } from 'node:child_process';
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
import { api, buildModel } from '../__testUtils__/platformApi';
import {
  FLAKY_CHURN_MODEL,
  writeModelVariant,
} from '../__testUtils__/modelVariants';
import { ParquetRowWriter } from './io';

jest.setTimeout(240_000);

const component = (name: string) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name, namespace: 'default' },
  spec: { type: 'ml-model', owner: 'group:default/data-science' },
});
const probability = churnReference();
const PG = process.env.BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING;

describe('batch executions', () => {
  let repo: ModelRepository;
  let tmp: string;
  let server: any;
  let stop: () => Promise<void>;
  let warehouse: Knex;
  let deploymentId: string;
  let buildId: string;

  async function finished(id: string) {
    return waitFor(
      async () => {
        const e = (await request(server).get(api(`/executions/${id}`))).body;
        return ['succeeded', 'failed', 'cancelled'].includes(e.status)
          ? e
          : undefined;
      },
      { what: `execution ${id}`, timeoutMs: 180_000 },
    );
  }

  async function upload(model: string, file: string) {
    const res = await request(server)
      .post(
        api(`/models/default/${model}/uploads?filename=${path.basename(file)}`),
      )
      .set('Content-Type', 'application/octet-stream')
      .send(await fs.promises.readFile(file));
    expect(res.status).toBe(201);
    return res.body.uploadId as string;
  }

  async function buildAndDeploy(model: string, batch: object = {}) {
    const build = await buildModel(server, model);
    const deployment = await request(server)
      .post(api(`/models/default/${model}/deployments`))
      .send({ buildId: build.id, type: 'batch', batch });
    expect(deployment.status).toBe(201);
    return { build, deployment: deployment.body };
  }

  beforeAll(async () => {
    repo = await ModelRepository.create({ churn: 'churn', flaky: 'churn' });
    // A model whose second chunk fails once: the first attempt leaves a
    // marker in its working directory (its own files: model processes get
    // nothing of the backend's environment).
    await writeModelVariant(repo, 'flaky', 'flaky', FLAKY_CHURN_MODEL);
    await repo.commitAndPush('Flaky model');
    tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-batch-'));
    // Model processes run as the sandbox user, who must pass through here.
    await fs.promises.chmod(tmp, 0o755);

    const warehouseFile = path.join(tmp, 'warehouse.sqlite');
    warehouse = knexFactory({
      client: 'better-sqlite3',
      connection: { filename: warehouseFile },
      useNullAsDefault: true,
    });
    await warehouse.schema.createTable('customers', t => {
      t.integer('id').primary();
      for (const c of ['tenure_months', 'support_calls']) t.integer(c);
      for (const c of ['monthly_charges', 'total_charges']) t.double(c);
      t.string('contract');
      t.boolean('has_internet');
    });
    await warehouse.batchInsert(
      'customers',
      Array.from({ length: 2500 }, (_, i) => ({ id: i, ...churnRow(i) })),
      500,
    );

    const backend = await startTestBackend({
      features: [
        mlPlatformPlugin,
        schedulerServiceFactory,
        catalogServiceMock.factory({
          entities: [component('churn'), component('flaky')],
        }),
        mockServices.rootConfig.factory({
          data: {
            mlPlatform: {
              dataDir: path.join(tmp, 'data'),
              // Test repositories are local: under the git root, as the policy wants.
              git: { root: repo.root },
              builds: { pollInterval: 0, heartbeatInterval: 200 },
              batch: {
                allowedInputRoots: [path.join(tmp, 'inputs')],
                heartbeatInterval: 200,
                retryBackoff: 50,
                scheduleCheckInterval: 500,
                connections: {
                  warehouse: {
                    client: 'better-sqlite3',
                    connection: { filename: warehouseFile },
                  },
                  ...(PG ? { pg: { client: 'pg', connection: PG } } : {}),
                },
              },
            },
          },
        }),
      ],
    });
    server = backend.server;
    stop = () => backend.stop();
    for (const name of ['churn', 'flaky']) {
      await request(server)
        .post(api(`/models/default/${name}/register`))
        .send({ gitUrl: repo.url, gitPath: name, defaultBranch: 'main' });
    }
    const deployed = await buildAndDeploy('churn');
    deploymentId = deployed.deployment.id;
    buildId = deployed.build.id;
    await fs.promises.mkdir(path.join(tmp, 'inputs'), { recursive: true });
  });

  afterAll(async () => {
    await stop?.();
    await warehouse?.destroy();
    await repo?.remove();
    await fs.promises.rm(tmp, { recursive: true, force: true });
  });

  it('scores a 100k-row CSV in parallel chunks, every output value right', async () => {
    const file = path.join(tmp, 'customers-100k.csv');
    await writeChurnCsv(file, 100_000);
    const uploadId = await upload('churn', file);
    const created = await request(server)
      .post(api('/models/default/churn/executions'))
      .send({
        input: { type: 'upload', uploadId },
        output: { type: 'file', format: 'jsonl' },
        chunkSize: 5000,
        parallelism: 2,
      });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({
      deploymentId,
      buildId,
      chunkSize: 5000,
      parallelism: 2,
      trigger: 'api',
    });

    const execution = await finished(created.body.id);
    expect(execution.error).toBeUndefined();
    expect(execution).toMatchObject({
      status: 'succeeded',
      chunksTotal: 20,
      chunksDone: 20,
      rowsTotal: 100_000,
      rowsDone: 100_000,
      rowsFailed: 0,
      resultUri: expect.stringMatching(/^local:executions\//),
    });
    expect(execution.rowsPerSecond).toBeGreaterThan(0);

    const result = await request(server)
      .get(api(`/executions/${execution.id}/result`))
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks).toString('utf8')));
      });
    expect(result.status).toBe(200);
    expect(result.headers['content-disposition']).toMatch(
      /attachment; filename="churn-/,
    );
    const lines = (result.body as string).split('\n').filter(Boolean);
    expect(lines).toHaveLength(100_000);
    lines.forEach((line, i) => {
      const record = JSON.parse(line);
      if (record.row_id !== i)
        throw new Error(`line ${i} has row_id ${record.row_id}`);
      const expected = probability(churnRow(i));
      if (Math.abs(record.churn_probability - expected) > 1e-12) {
        throw new Error(`row ${i}: ${record.churn_probability} != ${expected}`);
      }
      if (record.churn !== expected >= 0.5)
        throw new Error(`row ${i}: churn flag`);
    });
  });

  it('retries a chunk that fails once and finishes', async () => {
    await buildAndDeploy('flaky');
    const file = path.join(tmp, 'inputs', 'small.csv');
    await writeChurnCsv(file, 30);
    const created = await request(server)
      .post(api('/models/default/flaky/executions'))
      .send({
        input: { type: 'path', path: file },
        output: { type: 'file', format: 'csv' },
        chunkSize: 5,
        parallelism: 2,
        maxRetries: 2,
      });
    expect(created.status).toBe(202);
    const execution = await finished(created.body.id);
    expect(execution).toMatchObject({
      status: 'succeeded',
      chunksDone: 6,
      rowsDone: 30,
    });
    const chunks = (
      await request(server).get(api(`/executions/${execution.id}/chunks`))
    ).body.items;
    const retried = chunks.find((c: any) => c.seq === 1);
    expect(retried).toMatchObject({
      status: 'succeeded',
      attempts: 2,
      error: expect.stringMatching(/transient failure, please retry/),
    });
    expect(chunks.filter((c: any) => c.attempts === 1)).toHaveLength(5);
    // Monitoring counted every attempt: six that succeeded, one that failed.
    const exposition = (await request(server).get(api('/metrics'))).text;
    const chunksOf = (outcome: string) =>
      new RegExp(
        `ml_platform_batch_chunks_total\\{namespace="default",model="flaky",[^}]*outcome="${outcome}"\\} (\\d+)`,
      ).exec(exposition)?.[1];
    expect(chunksOf('success')).toBe('6');
    expect(chunksOf('model_error')).toBe('1');
  });

  it('ends with the chunk, its rows and the model error when a chunk keeps failing', async () => {
    const file = path.join(tmp, 'inputs', 'weekly.jsonl');
    const rows = Array.from({ length: 12 }, (_, i) => ({
      ...churnRow(i),
      contract: i === 7 ? 'weekly' : churnRow(i).contract,
    }));
    await fs.promises.writeFile(
      file,
      rows.map(r => JSON.stringify(r)).join('\n'),
    );
    const created = await request(server)
      .post(api('/models/default/churn/executions'))
      .send({
        input: { type: 'path', path: file },
        output: { type: 'file', format: 'jsonl' },
        chunkSize: 5,
        parallelism: 1,
        maxRetries: 1,
      });
    const execution = await finished(created.body.id);
    expect(execution.status).toBe('failed');
    expect(execution.error).toMatch(
      /^Chunk 1 \(rows 5-9\) failed after 2 attempts: model error: ValueError: unknown contract 'weekly'/,
    );
    const failed = (
      await request(server).get(
        api(`/executions/${execution.id}/chunks?status=failed`),
      )
    ).body.items;
    expect(failed.map((c: any) => c.seq)).toEqual([1]);
  });

  it('fails an input without a column the model needs, naming it', async () => {
    const file = path.join(tmp, 'inputs', 'partial.csv');
    await fs.promises.writeFile(file, 'tenure_months,contract\n1,one-year\n');
    const created = await request(server)
      .post(api('/models/default/churn/executions'))
      .send({
        input: { type: 'path', path: file },
        output: { type: 'file', format: 'csv' },
      });
    const execution = await finished(created.body.id);
    expect(execution.status).toBe('failed');
    expect(execution.error).toMatch(
      /missing required columns 'monthly_charges', 'total_charges', 'support_calls', 'has_internet'/,
    );
  });

  it('reads a SQL query and writes a table, keyed by row id', async () => {
    const targets = [{ connection: 'warehouse', db: warehouse }];
    let pg: Knex | undefined;
    if (PG) {
      pg = knexFactory({ client: 'pg', connection: PG });
      await pg.schema.dropTableIfExists('churn_scores_pg');
      targets.push({ connection: 'pg', db: pg });
    }
    for (const target of targets) {
      const table =
        target.connection === 'pg' ? 'churn_scores_pg' : 'churn_scores';
      const created = await request(server)
        .post(api('/models/default/churn/executions'))
        .send({
          input: {
            type: 'sql',
            connection: 'warehouse',
            query:
              'select tenure_months, monthly_charges, total_charges, contract, support_calls, has_internet from customers order by id',
          },
          output: { type: 'table', connection: target.connection, table },
          chunkSize: 400,
          parallelism: 2,
        });
      expect(created.status).toBe(202);
      const execution = await finished(created.body.id);
      expect(execution.error).toBeUndefined();
      expect(execution).toMatchObject({
        status: 'succeeded',
        rowsDone: 2500,
        chunksTotal: 7,
      });
      const rows = await target.db(table).orderBy('row_id');
      expect(rows).toHaveLength(2500);
      rows.forEach((r: any, i: number) => {
        expect(Number(r.row_id)).toBe(i);
        expect(Number(r.churn_probability)).toBeCloseTo(
          probability(churnRow(i)),
          9,
        );
      });
      const noFile = await request(server).get(
        api(`/executions/${execution.id}/result`),
      );
      expect(noFile.status).toBe(404);
    }
    await pg?.destroy();
  });

  it('reads and writes Parquet', async () => {
    const file = path.join(tmp, 'customers.parquet');
    const writer = await ParquetRowWriter.create(
      file,
      [
        { name: 'tenure_months', type: 'INT64' },
        { name: 'monthly_charges', type: 'DOUBLE' },
        { name: 'total_charges', type: 'DOUBLE' },
        { name: 'contract', type: 'STRING' },
        { name: 'support_calls', type: 'INT64' },
        { name: 'has_internet', type: 'BOOLEAN' },
      ],
      { rowGroupSize: 300 },
    );
    for (let i = 0; i < 1000; i++) {
      const r = churnRow(i);
      await writer.write([
        r.tenure_months,
        r.monthly_charges,
        r.total_charges,
        r.contract,
        r.support_calls,
        r.has_internet,
      ]);
    }
    await writer.close();
    const uploadId = await upload('churn', file);
    const created = await request(server)
      .post(api('/models/default/churn/executions'))
      .send({
        input: { type: 'upload', uploadId },
        output: { type: 'file', format: 'parquet' },
        chunkSize: 250,
      });
    const execution = await finished(created.body.id);
    expect(execution.error).toBeUndefined();
    expect(execution.status).toBe('succeeded');
    const download = await request(server)
      .get(api(`/executions/${execution.id}/result`))
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });
    const out = path.join(tmp, 'result.parquet');
    await fs.promises.writeFile(out, download.body as Buffer);
    const parquet = await asyncBufferFromFile(out);
    const rows = await parquetReadObjects({
      file: parquet,
      metadata: await parquetMetadataAsync(parquet),
    });
    expect(rows).toHaveLength(1000);
    rows.forEach((r: any, i: number) => {
      expect(Number(r.row_id)).toBe(i);
      expect(r.churn_probability).toBeCloseTo(probability(churnRow(i)), 12);
    });
  });

  it('starts executions on the deployment schedule', async () => {
    const file = path.join(tmp, 'inputs', 'nightly.csv');
    await writeChurnCsv(file, 10);
    // The flaky model's batch deployment is replaced by a scheduled one.
    const flaky = (
      await request(server).get(api('/models/default/flaky/deployments'))
    ).body.items[0];
    await request(server)
      .delete(api(`/deployments/${flaky.id}`))
      .expect(204);
    const scheduled = await request(server)
      .post(api('/models/default/flaky/deployments'))
      .send({
        buildId: flaky.buildId,
        type: 'batch',
        batch: {
          schedule: '*/2 * * * * *',
          input: { type: 'path', path: file },
          output: { type: 'file', format: 'jsonl' },
        },
      });
    expect(scheduled.status).toBe(201);
    const run = await waitFor(
      async () => {
        const items = (
          await request(server).get(api('/models/default/flaky/executions'))
        ).body.items;
        return items.find(
          (e: any) => e.trigger === 'schedule' && e.status === 'succeeded',
        );
      },
      { what: 'a scheduled execution', timeoutMs: 30_000 },
    );
    expect(run).toMatchObject({
      deploymentId: scheduled.body.id,
      createdBy: 'ml-platform:schedule',
      rowsDone: 10,
    });
    await request(server)
      .delete(api(`/deployments/${scheduled.body.id}`))
      .expect(204);

    const noIo = await request(server)
      .post(api('/models/default/flaky/deployments'))
      .send({
        buildId: flaky.buildId,
        type: 'batch',
        batch: { schedule: '0 3 * * *' },
      });
    expect(noIo.status).toBe(400);
    expect(noIo.body.error.message).toMatch(
      /body.batch.schedule: a schedule needs the input and output/,
    );
  });

  it('runs the next execution of a build on the idle workers of the last, replacing one that died', async () => {
    const file = path.join(tmp, 'inputs', 'warm.csv');
    await writeChurnCsv(file, 40);
    // The churn build's batch workers (their command names its build's directory).
    const churnWorkers = () =>
      execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
        .split('\n')
        .filter(l => /mlp_runtime\.batch .*--serve/.test(l))
        .filter(l => l.includes(tmp) && l.includes(`/builds/${buildId}/`))
        .map(l => Number(l.trim().split(/\s+/)[0]));
    const run = async () => {
      const created = await request(server)
        .post(api('/models/default/churn/executions'))
        .send({
          input: { type: 'path', path: file },
          output: { type: 'file', format: 'jsonl' },
          chunkSize: 10,
          parallelism: 2,
        });
      expect(created.status).toBe(202);
      return finished(created.body.id);
    };
    expect(await run()).toMatchObject({ status: 'succeeded', rowsDone: 40 });
    const idle = churnWorkers();
    expect(idle).toHaveLength(2);
    process.kill(idle[0], 'SIGKILL');
    await waitFor(async () => !churnWorkers().includes(idle[0]), {
      what: 'the killed worker gone',
    });
    expect(await run()).toMatchObject({
      status: 'succeeded',
      rowsDone: 40,
      chunksDone: 4,
    });
    const after = churnWorkers();
    expect(after).toHaveLength(2);
    expect(after).toContain(idle[1]); // kept: no import or model load again
    expect(after).not.toContain(idle[0]);
  });

  it('cancels, saying how far it got', async () => {
    const file = path.join(tmp, 'inputs', 'big.csv');
    await writeChurnCsv(file, 200_000);
    const created = await request(server)
      .post(api('/models/default/churn/executions'))
      .send({
        input: { type: 'path', path: file },
        output: { type: 'file', format: 'jsonl' },
        chunkSize: 1000,
        parallelism: 1,
      });
    await waitFor(
      async () =>
        (
          await request(server).get(api(`/executions/${created.body.id}`))
        ).body.chunksDone >= 2,
      { what: 'two chunks' },
    );
    const cancel = await request(server).post(
      api(`/executions/${created.body.id}/cancel`),
    );
    expect(cancel.status).toBe(202);
    const execution = await finished(created.body.id);
    expect(execution.status).toBe('cancelled');
    expect(execution.error).toMatch(
      /^Cancelled after \d+ of (\d+|\?) chunks \(\d+ rows\)$/,
    );
    expect(execution.chunksDone).toBeLessThan(200);
  });

  it('refuses bad requests, naming the field', async () => {
    const outside = await request(server)
      .post(api('/models/default/churn/executions'))
      .send({
        input: { type: 'path', path: '/etc/passwd' },
        output: { type: 'file', format: 'csv' },
      });
    expect(outside.status).toBe(400);
    expect(outside.body.error.message).toMatch(
      /^body.input.path: \/etc\/passwd is not under a directory in mlPlatform.batch.allowedInputRoots/,
    );

    const cases: [object, RegExp][] = [
      [
        {
          input: { type: 'sql', connection: 'nope', query: 'select 1' },
          output: { type: 'file', format: 'csv' },
        },
        /body.input.connection: no database connection named "nope"/,
      ],
      [
        {
          input: { type: 'path', path: path.join(tmp, 'inputs', 'small.csv') },
          output: {
            type: 'table',
            connection: 'warehouse',
            table: 'drop table x;',
          },
        },
        /body.output.table:/,
      ],
      [
        {
          input: { type: 'ftp', path: 'x' },
          output: { type: 'file', format: 'csv' },
        },
        /body.input/,
      ],
      [
        {
          input: {
            type: 'upload',
            uploadId: '00000000-0000-4000-8000-000000000000',
          },
          output: { type: 'file', format: 'xlsx' },
        },
        /body.output.format: expected csv, jsonl or parquet/,
      ],
      [
        {
          input: { type: 'url', url: 'ftp://example.com/x.csv' },
          output: { type: 'file', format: 'csv' },
        },
        /body.input.url: expected an http\(s\) URL/,
      ],
      [
        {
          buildId: buildId,
          deploymentId,
          input: { type: 'path', path: '/x' },
          output: { type: 'file', format: 'csv' },
        },
        /give deploymentId or buildId, not both/,
      ],
    ];
    for (const [body, message] of cases) {
      const res = await request(server)
        .post(api('/models/default/churn/executions'))
        .send(body);
      expect({ status: res.status, message: res.body.error?.message }).toEqual({
        status: 400,
        message: expect.stringMatching(message),
      });
    }
    const missingUpload = await request(server)
      .post(api('/models/default/churn/executions'))
      .send({
        input: {
          type: 'upload',
          uploadId: '00000000-0000-4000-8000-000000000000',
        },
        output: { type: 'file', format: 'csv' },
      });
    expect(missingUpload.status).toBe(404);
    const badName = await request(server)
      .post(api('/models/default/churn/uploads?filename=data.xlsx'))
      .set('Content-Type', 'application/octet-stream')
      .send(Buffer.from('x'));
    expect(badName.status).toBe(400);
    expect(badName.body.error.message).toBe(
      'query.filename: data.xlsx is not a .csv, .jsonl or .parquet file',
    );
  });
});
