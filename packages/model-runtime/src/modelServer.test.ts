import { parseManifest } from '@internal/plugin-ml-platform-common';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ModelProcessStartError,
  ModelServerProcess,
  startModelServer,
} from './modelServer';
import { runtimeSchemaJson } from './runtimeSchema';

jest.setTimeout(60_000);

const churnDir = path.resolve(__dirname, '../../../examples/models/churn');
const expected: {
  input: Record<string, unknown>;
  churn_probability: number;
}[] = JSON.parse(fs.readFileSync(path.join(churnDir, 'expected.json'), 'utf8'));

/** The backend's job: turn the manifest's schema into the runtime's --schema file. */
function writeSchemaFile(dir: string): string {
  const manifest = parseManifest(
    fs.readFileSync(path.join(churnDir, 'mlmodel.yaml'), 'utf8'),
  );
  const file = path.join(dir, 'schema.json');
  fs.writeFileSync(file, runtimeSchemaJson(manifest.spec));
  return file;
}

/** Columnar V2 tensors from row objects, with the manifest's types. */
function v2Inputs(rows: Record<string, unknown>[]) {
  const datatype: Record<string, string> = {
    tenure_months: 'INT64',
    monthly_charges: 'FP64',
    total_charges: 'FP64',
    contract: 'BYTES',
    support_calls: 'INT64',
    has_internet: 'BOOL',
  };
  return Object.keys(datatype).map(name => ({
    name,
    shape: [rows.length],
    datatype: datatype[name],
    data: rows.map(r => r[name]),
  }));
}

describe('model server (real python3 process on the churn example)', () => {
  let tmp: string;
  let server: ModelServerProcess;
  const logs: string[] = [];

  const post = (p: string, body: unknown) =>
    fetch(`${server.url}${p}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-server-'));
    server = await startModelServer({
      modelDir: churnDir,
      entrypoint: 'model:Model',
      name: 'churn',
      version: '3',
      schemaFile: writeSchemaFile(tmp),
      maxBodyBytes: 64 * 1024,
      onLog: line => logs.push(line),
    });
  });
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('answers health and metadata', async () => {
    for (const p of [
      '/v2/health/live',
      '/v2/health/ready',
      '/v2/models/churn/ready',
    ]) {
      expect({ p, status: (await fetch(`${server.url}${p}`)).status }).toEqual({
        p,
        status: 200,
      });
    }
    const meta = await (await fetch(`${server.url}/v2/models/churn`)).json();
    expect(meta).toMatchObject({
      name: 'churn',
      versions: ['3'],
      platform: 'python',
    });
    expect(meta.inputs).toContainEqual(
      expect.objectContaining({ name: 'contract', datatype: 'BYTES' }),
    );
    expect((await fetch(`${server.url}/v2/models/other`)).status).toBe(404);
  });

  it('predicts the known outputs over V2 infer', async () => {
    const rows = expected.map(e => e.input);
    const res = await post('/v2/models/churn/infer', {
      id: 'req-1',
      inputs: v2Inputs(rows),
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({
      model_name: 'churn',
      model_version: '3',
      id: 'req-1',
    });
    const probability = body.outputs.find(
      (o: any) => o.name === 'churn_probability',
    );
    expect(probability).toMatchObject({
      datatype: 'FP64',
      shape: [rows.length],
    });
    probability.data.forEach((p: number, i: number) =>
      expect(p).toBeCloseTo(expected[i].churn_probability, 6),
    );
    const churn = body.outputs.find((o: any) => o.name === 'churn');
    expect(churn.data).toEqual(expected.map(e => e.churn_probability >= 0.5));
  });

  it('accepts every MLflow records shape', async () => {
    const rows = expected.slice(0, 2).map(e => e.input);
    const columns = Object.keys(rows[0]);
    const bodies = [
      { dataframe_records: rows },
      {
        dataframe_split: {
          columns,
          data: rows.map(r => columns.map(c => r[c])),
        },
      },
      { instances: rows },
      {
        inputs: Object.fromEntries(columns.map(c => [c, rows.map(r => r[c])])),
      },
    ];
    for (const body of bodies) {
      const res = await post('/invocations', body);
      expect(res.status).toBe(200);
      const { predictions } = await res.json();
      expect(predictions.map((p: any) => p.churn_probability)).toEqual([
        expect.closeTo(expected[0].churn_probability, 6),
        expect.closeTo(expected[1].churn_probability, 6),
      ]);
    }
  });

  it('refuses bad input with a 400 that names the problem', async () => {
    const rows = [expected[0].input];
    const wrongShape = v2Inputs(rows);
    wrongShape[0].shape = [3];
    const wrongType = v2Inputs(rows);
    wrongType[1].data = ['eighty'];
    const missing = v2Inputs(rows).filter(i => i.name !== 'tenure_months');

    const cases: [unknown, RegExp][] = [
      [{ inputs: wrongShape }, /tenure_months.*shape/i],
      [{ inputs: wrongType }, /monthly_charges/],
      [{ inputs: missing }, /tenure_months/],
      ['{"inputs": [', /JSON/i],
    ];
    for (const [body, message] of cases) {
      const res = await post('/v2/models/churn/infer', body);
      const json = await res.json();
      expect({ status: res.status, error: json.error }).toEqual({
        status: 400,
        error: expect.stringMatching(message),
      });
    }
    const unknownShape = await post('/invocations', { rows });
    expect(unknownShape.status).toBe(400);
  });

  it('turns a model error into a 500 and keeps serving', async () => {
    const bad = { ...expected[0].input, contract: 'weekly' };
    const res = await post('/invocations', { dataframe_records: [bad] });
    expect(res.status).toBe(500);
    expect((await res.json()).error).toMatch(/^ValueError: .*weekly/);
    const after = await post('/invocations', {
      dataframe_records: [expected[0].input],
    });
    expect(after.status).toBe(200);
    expect(logs.join('\n')).toMatch(/model error/);
  });

  it('refuses bodies over the size limit with 413', async () => {
    const rows = Array.from({ length: 2000 }, () => expected[0].input);
    const res = await post('/invocations', { dataframe_records: rows });
    expect(res.status).toBe(413);
  });

  it('exposes Prometheus metrics that promtool accepts', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(
      /^mlp_requests_total\{endpoint="\/v2\/models\/\{model\}\/infer",code="200"\} \d+/m,
    );
    expect(text).toMatch(
      /^mlp_request_duration_seconds_bucket\{.*le="\+Inf"\}/m,
    );
    expect(text).toMatch(/^mlp_predictions_total \d+/m);
    let promtool = true;
    try {
      execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    } catch {
      promtool = false;
    }
    if (promtool) {
      // promtool exits non-zero and prints the problems when the text is invalid.
      execFileSync('promtool', ['check', 'metrics'], { input: text });
    } else {
      console.warn(
        'promtool not installed (apt-get install -y prometheus): format check skipped',
      );
    }
  });
});

describe('startModelServer failures', () => {
  it('reports a model that cannot load, with its last log line', async () => {
    const error = await startModelServer({
      modelDir: churnDir,
      entrypoint: 'model:NoSuchClass',
      name: 'churn',
    }).catch(e => e);
    expect(error).toBeInstanceOf(ModelProcessStartError);
    expect(error.exitCode).toBe(4);
    expect(error.message).toMatch(
      /exited with code 4 before it was ready: .*NoSuchClass/,
    );
  });
});
