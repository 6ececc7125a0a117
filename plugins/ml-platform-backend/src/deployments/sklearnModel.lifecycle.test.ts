import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { mlPlatformPlugin } from '../plugin';
import {
  examplesDir,
  ModelRepository,
  waitFor,
} from '../__testUtils__/modelRepository';
import { api, buildModel, resultText } from '../__testUtils__/platformApi';
import { churnV2Body, mlModelComponent } from '../__testUtils__/churnReference';

jest.setTimeout(240_000);

// The vetted base interpreter of the example (Debian's python3 with
// python3-numpy, -pandas, -sklearn and -joblib; .ci/run installs them).
const BASE_PYTHON = '/usr/bin/python3';

type Case = { input: Record<string, unknown>; churn_probability: number };
const expected: Case[] = JSON.parse(
  fs.readFileSync(
    path.join(examplesDir, 'churn-sklearn/expected.json'),
    'utf8',
  ),
);
const columns = Object.keys(expected[0].input);

function closeTo(actual: number[], wanted: number[]) {
  expect(actual).toHaveLength(wanted.length);
  actual.forEach((p, i) => {
    if (Math.abs(p - wanted[i]) > 1e-9) {
      throw new Error(
        `prediction ${i}: ${p}, the training script gave ${wanted[i]}`,
      );
    }
  });
}

describe('a scikit-learn model on a vetted base interpreter', () => {
  it('builds with the base interpreter, serves DataFrames online and in batch', async () => {
    const probe = execFileSync(
      BASE_PYTHON,
      ['-c', 'import numpy, pandas, sklearn, joblib; print("ok")'],
      { encoding: 'utf8' },
    );
    expect(probe.trim()).toBe('ok');
    const repo = await ModelRepository.create({
      'churn-sklearn': 'churn-sklearn',
    });
    const tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-sk-'));
    const inputs = path.join(tmp, 'inputs');
    await fs.promises.mkdir(inputs);
    const backend = await startTestBackend({
      features: [
        mlPlatformPlugin,
        schedulerServiceFactory,
        catalogServiceMock.factory({
          entities: [mlModelComponent('churn-sklearn')],
        }),
        mockServices.rootConfig.factory({
          data: {
            mlPlatform: {
              dataDir: path.join(tmp, 'data'),
              // Test repositories are local: under the git root, as the policy wants.
              git: { root: repo.root },
              builds: {
                pollInterval: 0,
                allowedPythons: [BASE_PYTHON],
                systemSitePackages: true,
              },
              batch: { allowedInputRoots: [inputs] },
            },
          },
        }),
      ],
    });
    const { server } = backend;
    try {
      await request(server)
        .post(api('/models/default/churn-sklearn/register'))
        .send({
          gitUrl: repo.url,
          gitPath: 'churn-sklearn',
          defaultBranch: 'main',
        });
      // The model's own tests (against the training script's predictions)
      // ran in a venv over the base interpreter.
      const build = await buildModel(server, 'churn-sklearn');
      expect(build.steps.map((s: any) => [s.name, s.status])).toEqual([
        ['checkout', 'succeeded'],
        ['validate', 'succeeded'],
        ['install', 'succeeded'],
        ['test', 'succeeded'],
        ['smoke', 'succeeded'],
        ['package', 'succeeded'],
      ]);

      const deployment = (
        await request(server)
          .post(api('/models/default/churn-sklearn/deployments'))
          .send({ buildId: build.id, type: 'online', replicas: 1 })
      ).body;
      await waitFor(
        async () =>
          (
            await request(server).get(api(`/deployments/${deployment.id}`))
          ).body.status === 'ready',
        { what: 'the deployment to be ready', timeoutMs: 60_000 },
      );
      const wanted = expected.map(c => c.churn_probability);

      const records = await request(server)
        .post(api('/models/default/churn-sklearn/predict'))
        .send({ dataframe_records: expected.map(c => c.input) });
      expect(records.status).toBe(200);
      closeTo(
        records.body.predictions.map((p: any) => p.churn_probability),
        wanted,
      );

      const v2 = await request(server)
        .post(api('/v2/models/churn-sklearn/infer'))
        .send(churnV2Body(expected.map(c => c.input)));
      expect(v2.status).toBe(200);
      expect(v2.body.outputs.map((o: any) => [o.name, o.datatype])).toEqual([
        ['churn_probability', 'FP64'],
        ['churn', 'BOOL'],
      ]);
      closeTo(v2.body.outputs[0].data, wanted);

      // Batch: 2,000 rows (the expected customers over and over), read by
      // pandas.read_csv in byte ranges.
      const file = path.join(inputs, 'customers.csv');
      const lines = [columns.join(',')];
      for (let i = 0; i < 2000; i++) {
        const c = expected[i % expected.length].input;
        lines.push(columns.map(name => String(c[name])).join(','));
      }
      await fs.promises.writeFile(file, `${lines.join('\n')}\n`);
      const created = await request(server)
        .post(api('/models/default/churn-sklearn/executions'))
        .send({
          buildId: build.id,
          input: { type: 'path', path: file },
          output: { type: 'file', format: 'jsonl' },
          chunkSize: 500,
          parallelism: 2,
        });
      expect(created.status).toBe(202);
      const execution = await waitFor(
        async () => {
          const e = (
            await request(server).get(api(`/executions/${created.body.id}`))
          ).body;
          return ['succeeded', 'failed'].includes(e.status) ? e : undefined;
        },
        { what: 'the execution', timeoutMs: 120_000 },
      );
      expect(execution).toMatchObject({ status: 'succeeded', rowsDone: 2000 });
      const rows = (await resultText(server, execution.id))
        .split('\n')
        .filter(Boolean)
        .map(line => JSON.parse(line));
      expect(rows.map(r => r.row_id)).toEqual([...Array(2000).keys()]);
      closeTo(
        rows.map(r => r.churn_probability),
        rows.map(r => wanted[r.row_id % wanted.length]),
      );

      // An interpreter the platform does not allow fails the build, naming it.
      await repo.writeFile(
        'churn-sklearn/mlmodel.yaml',
        (
          await fs.promises.readFile(
            path.join(repo.workPath, 'churn-sklearn/mlmodel.yaml'),
            'utf8',
          )
        ).replace('python: /usr/bin/python3', 'python: /opt/unvetted/python3'),
      );
      await repo.commitAndPush('Use another interpreter');
      const refused = await buildModel(server, 'churn-sklearn', {
        allowFailure: true,
      });
      expect(refused.status).toBe('failed');
      expect(refused.failureReason).toBe(
        'Step install failed: spec.python: /opt/unvetted/python3 is not an interpreter this platform allows (mlPlatform.builds.allowedPythons: python3, /usr/bin/python3)',
      );
    } finally {
      await backend.stop();
      await repo.remove();
      await fs.promises.rm(tmp, { recursive: true, force: true });
    }
  });
});
