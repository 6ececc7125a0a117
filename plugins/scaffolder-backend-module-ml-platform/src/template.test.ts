import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import catalogTemplateModule from '@backstage/plugin-catalog-backend-module-scaffolder-entity-model';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import { runGit } from '@internal/plugin-ml-platform-node';
import mlPlatformPlugin from '@internal/plugin-ml-platform-backend';
import catalogMlPlatformModule from '@internal/plugin-catalog-backend-module-ml-platform';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { scaffolderModule } from './module';

jest.setTimeout(240_000);

const template = path.resolve(
  resolvePackagePath('@internal/plugin-scaffolder-backend-module-ml-platform'),
  '../../templates/ml-model/template.yaml',
);

async function poll<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 250));
  }
}

/** Runs the template with `values`; resolves when the task completed. */
async function runTemplate(server: any, values: Record<string, unknown>) {
  const task = await request(server)
    .post('/api/scaffolder/v2/tasks')
    .send({ templateRef: 'template:default/ml-model', values });
  expect(task.status).toBe(201);
  const done = await poll(
    async () => {
      const res = await request(server).get(
        `/api/scaffolder/v2/tasks/${task.body.id}`,
      );
      return ['completed', 'failed', 'cancelled'].includes(res.body.status)
        ? res.body
        : undefined;
    },
    'the task',
    180_000,
  );
  if (done.status !== 'completed') {
    const events = await request(server).get(
      `/api/scaffolder/v2/tasks/${task.body.id}/events`,
    );
    throw new Error(
      `task ${done.status}:\n${events.body
        .map((e: any) => e.body.message)
        .filter(Boolean)
        .join('\n')}`,
    );
  }
  return task.body.id as string;
}

describe('the "New ML model" template through the real scaffolder', () => {
  it('creates the repository, the catalog entity, the first build and a serving deployment', async () => {
    const tmp = await fs.promises.mkdtemp(
      path.join(os.tmpdir(), 'mlp-template-'),
    );
    const gitRoot = path.join(tmp, 'git');
    const backend = await startTestBackend({
      features: [
        scaffolderPlugin,
        scaffolderModule,
        catalogPlugin,
        // Lets the catalog accept Template entities.
        catalogTemplateModule,
        // Reads the entities of the platform's Git hosting.
        catalogMlPlatformModule,
        mlPlatformPlugin,
        schedulerServiceFactory,
        mockServices.rootConfig.factory({
          data: {
            app: { baseUrl: 'http://localhost:3000' },
            catalog: {
              rules: [{ allow: ['Component', 'Template', 'Location'] }],
              locations: [
                {
                  type: 'file',
                  target: template,
                  rules: [{ allow: ['Template'] }],
                },
              ],
              processingInterval: { seconds: 1 },
            },
            scaffolder: {
              defaultAuthor: {
                name: 'Scaffolder',
                email: 'scaffolder@example.com',
              },
            },
            mlPlatform: {
              dataDir: path.join(tmp, 'data'),
              git: { root: gitRoot },
              builds: {
                pollInterval: 0,
                heartbeatInterval: 200,
                allowedPythons: ['/usr/bin/python3'],
                systemSitePackages: true,
              },
            },
          },
        }),
      ],
    });
    const server = backend.server;
    try {
      await poll(async () => {
        const res = await request(server).get(
          '/api/catalog/entities/by-name/template/default/ml-model',
        );
        return res.status === 200 ? res.body : undefined;
      }, 'the template in the catalog');

      const started = Date.now();
      const taskId = await runTemplate(server, {
        name: 'fraud-score',
        description: 'Flags risky payments',
        owner: 'group:default/data-science',
        starter: 'tabular-classifier',
        destination: 'platform',
        deployOnline: true,
      });
      const seconds = (Date.now() - started) / 1000;

      // The bare repository holds the skeleton, rendered.
      const repo = path.join(gitRoot, 'fraud-score.git');
      const files = (
        await runGit(['ls-tree', '-r', '--name-only', 'main'], { cwd: repo })
      )
        .trim()
        .split('\n')
        .sort();
      expect(files).toEqual([
        'README.md',
        'catalog-info.yaml',
        'mlmodel.yaml',
        'model.py',
        'requirements.txt',
        'sample.json',
        'tests/test_model.py',
      ]);
      const tabularManifest = await runGit(['show', 'main:mlmodel.yaml'], {
        cwd: repo,
      });
      expect(tabularManifest).not.toMatch(/interface:|python:/);
      expect(await runGit(['show', 'main:README.md'], { cwd: repo })).toContain(
        '## How it works\n\n- `model.py` holds `Model`: `load()` runs once per process, `predict(rows)`\n',
      );
      const entityFile = await runGit(['show', 'main:catalog-info.yaml'], {
        cwd: repo,
      });
      expect(entityFile).toMatch(/name: fraud-score/);
      expect(entityFile).toMatch(
        /backstage.io\/kubernetes-label-selector: ml-platform\/model=fraud-score/,
      );
      expect(entityFile).toMatch(
        /grafana\/dashboard-selector: "tags @> 'ml-model:fraud-score'"/,
      );

      // The catalog has the model, the platform built and deployed it.
      const entity = await request(server).get(
        '/api/catalog/entities/by-name/component/default/fraud-score',
      );
      expect(entity.status).toBe(200);
      expect(entity.body.spec).toMatchObject({
        type: 'ml-model',
        owner: 'group:default/data-science',
      });
      const builds = await request(server).get(
        '/api/ml-platform/models/default/fraud-score/builds',
      );
      expect(builds.body.items[0]).toMatchObject({
        version: 1,
        status: 'succeeded',
        trigger: 'api',
      });
      const prediction = await request(server)
        .post('/api/ml-platform/models/default/fraud-score/predict')
        .send({
          dataframe_records: [
            { tenure_months: 2, monthly_charges: 85, support_calls: 3 },
          ],
        });
      expect(prediction.status).toBe(200);
      expect(prediction.body.predictions[0]).toEqual({
        probability: expect.any(Number),
        label: expect.any(Boolean),
      });
      // The output links the model's page and the repository.
      const events = await request(server).get(
        `/api/scaffolder/v2/tasks/${taskId}/events`,
      );
      const completion = events.body.find((e: any) => e.type === 'completion');
      expect(completion.body.output.links).toEqual([
        {
          title: 'Open the model',
          icon: 'catalog',
          url: '/catalog/default/component/fraud-score/ml-platform',
        },
        { title: 'Repository', url: `file://${repo}` },
      ]);
      console.log(`template to serving deployment: ${seconds.toFixed(1)} s`);

      // The scikit-learn starter: a Pipeline on a DataFrame, built and served
      // on the platform's vetted base interpreter.
      await runTemplate(server, {
        name: 'churn-pipeline',
        owner: 'group:default/data-science',
        starter: 'sklearn-classifier',
        destination: 'platform',
        deployOnline: true,
      });
      const manifest = await runGit(['show', 'main:mlmodel.yaml'], {
        cwd: path.join(gitRoot, 'churn-pipeline.git'),
      });
      expect(manifest).toMatch(/^ {2}interface: dataframe$/m);
      expect(manifest).toMatch(/^ {2}python: \/usr\/bin\/python3$/m);
      expect(
        await runGit(['show', 'main:README.md'], {
          cwd: path.join(gitRoot, 'churn-pipeline.git'),
        }),
      ).toContain(
        '## How it works\n\n- `model.py` holds `Model`: `load()` runs once per process, `predict(features)`\n',
      );
      const rows = [
        {
          tenure_months: 2,
          monthly_charges: 85,
          support_calls: 3,
          plan: 'basic',
        },
        {
          tenure_months: 60,
          monthly_charges: 40,
          support_calls: 0,
          plan: 'premium',
        },
      ];
      const pipeline = await request(server)
        .post('/api/ml-platform/models/default/churn-pipeline/predict')
        .send({ dataframe_records: rows });
      expect(pipeline.status).toBe(200);
      const [risky, loyal] = pipeline.body.predictions;
      expect(risky).toEqual({
        probability: expect.any(Number),
        label: expect.any(Boolean),
      });
      expect(risky.probability).toBeGreaterThan(loyal.probability);
    } finally {
      await backend.stop();
      await fs.promises.rm(tmp, { recursive: true, force: true });
    }
  });
});
