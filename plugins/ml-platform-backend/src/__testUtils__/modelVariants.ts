import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { ModelRepository, waitFor } from './modelRepository';
import { api } from './platformApi';

/**
 * The churn model, except that the chunk starting at tenure 5 fails once:
 * the first attempt leaves a marker in its working directory, or in
 * `$FLAKY_MARKER_DIR` where each attempt has a directory of its own (a pod).
 */
export const FLAKY_CHURN_MODEL = [
  'import os',
  'from model import Model as Churn',
  '',
  'class Model(Churn):',
  '    def predict(self, rows):',
  '        marker = os.path.join(os.environ.get("FLAKY_MARKER_DIR", "."), "flaky-marker-" + str(rows[0].get("tenure_months")))',
  '        if rows[0].get("tenure_months") == 5 and not os.path.exists(marker):',
  '            open(marker, "w").close()',
  '            raise RuntimeError("transient failure, please retry")',
  '        return super().predict(rows)',
  '',
].join('\n');

/**
 * Turns the copy of a model in `dir` into a variant: `module.py` holds
 * `source`, and the manifest's entrypoint becomes `module:Model`.
 */
export async function writeModelVariant(
  repo: ModelRepository,
  dir: string,
  module: string,
  source: string,
) {
  await repo.writeFile(`${dir}/${module}.py`, source);
  const manifest = await fs.promises.readFile(
    path.join(repo.workPath, dir, 'mlmodel.yaml'),
    'utf8',
  );
  await repo.writeFile(
    `${dir}/mlmodel.yaml`,
    manifest.replace('entrypoint: model:Model', `entrypoint: ${module}:Model`),
  );
}

/** Waits until an execution is succeeded, failed or cancelled. */
export function waitForExecution(server: any, id: string, timeoutMs = 120_000) {
  return waitFor(
    async () => {
      const e = (await request(server).get(api(`/executions/${id}`))).body;
      return ['succeeded', 'failed', 'cancelled'].includes(e.status)
        ? e
        : undefined;
    },
    { what: `execution ${id} to finish`, timeoutMs },
  );
}
