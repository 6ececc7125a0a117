import request from 'supertest';
import { waitFor } from './modelRepository';

/** A path under the plugin's base path. */
export const api = (p: string) => `/api/ml-platform${p}`;

/** Waits until a build has finished, succeeded or failed, and returns it. */
export function waitForBuild(server: any, id: string, what = `build ${id}`) {
  return waitFor(
    async () => {
      const b = (await request(server).get(api(`/builds/${id}`))).body;
      return ['succeeded', 'failed'].includes(b.status) ? b : undefined;
    },
    { what, timeoutMs: 60_000 },
  );
}

/**
 * Builds a registered model through the API and waits for the build to
 * finish; unless `allowFailure`, a failed build throws with its reason.
 */
export async function buildModel(
  server: any,
  model: string,
  options: { allowFailure?: boolean } = {},
) {
  const queued = await request(server)
    .post(api(`/models/default/${model}/builds`))
    .send({});
  if (queued.status !== 202) {
    throw new Error(`POST builds of ${model}: ${queued.status}`);
  }
  const build = await waitForBuild(
    server,
    queued.body.id,
    `a build of ${model}`,
  );
  if (!options.allowFailure && build.status !== 'succeeded') {
    throw new Error(`The build of ${model} failed: ${build.failureReason}`);
  }
  return build;
}

/**
 * Registers model `name` from `repoUrl` (its folder of that name), builds
 * it and deploys it online with one replica; returns the deployment once
 * it is ready.
 */
export async function deployOnline(
  server: any,
  repoUrl: string,
  name = 'churn',
) {
  await request(server)
    .post(api(`/models/default/${name}/register`))
    .send({ gitUrl: repoUrl, gitPath: name, defaultBranch: 'main' })
    .expect(200);
  const build = await buildModel(server, name);
  const deployment = await request(server)
    .post(api(`/models/default/${name}/deployments`))
    .send({ buildId: build.id, type: 'online', replicas: 1 })
    .expect(201);
  await waitFor(
    async () =>
      (
        await request(server).get(api(`/deployments/${deployment.body.id}`))
      ).body.status === 'ready',
    { what: 'the deployment', timeoutMs: 60_000 },
  );
  return deployment.body as { id: string; buildId: string };
}

/** An execution's result file, downloaded through the API, as text. */
export async function resultText(server: any, executionId: string) {
  const result = await request(server)
    .get(api(`/executions/${executionId}/result`))
    .buffer(true)
    .parse((res, done) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => done(null, Buffer.concat(parts).toString('utf8')));
    });
  return result.body as string;
}
