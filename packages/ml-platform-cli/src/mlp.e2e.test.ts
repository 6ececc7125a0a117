/**
 * `mlp` as users run it (bin/mlp in a child process) against the portal's
 * backend on the embedded defaults: sign in as guest, build, deploy, predict,
 * batch with progress and result, logs, the exit code of every kind of
 * failure, and the progress bar in a real terminal (tmux).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import {
  pushFailingBranch,
  startTestBackend,
  TestBackend,
} from './__testUtils__/testBackend';

jest.setTimeout(120_000);

const BIN = path.resolve(__dirname, '../bin/mlp');
const EXAMPLES = path.resolve(__dirname, '../../../examples/models');
const CHURN_COLUMNS =
  'tenure_months,monthly_charges,total_charges,contract,support_calls,has_internet';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let backend: TestBackend;
let tmp: string;
let env: Record<string, string>;

/** Runs `mlp` in a child process; stdout is a pipe, so JSON unless -o. */
function mlp(
  args: string[],
  options: { input?: string; env?: Record<string, string> } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: tmp,
      env: { ...env, ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => (stdout += d));
    child.stderr.on('data', d => (stderr += d));
    child.once('error', reject);
    child.once('close', code => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Runs `mlp`, expects exit 0, returns its parsed `-o json` output. */
async function mlpJson(args: string[], options?: { input?: string }) {
  const run = await mlp([...args, '-o', 'json'], options);
  if (run.code !== 0) {
    throw new Error(`mlp ${args.join(' ')}: exit ${run.code}: ${run.stderr}`);
  }
  return JSON.parse(run.stdout);
}

/** The churn example's inputs with their known probabilities (6 decimals). */
const expected: {
  input: Record<string, unknown>;
  churn_probability: number;
}[] = JSON.parse(
  fs.readFileSync(path.join(EXAMPLES, 'churn', 'expected.json'), 'utf8'),
);

function churnCsv(file: string, rows: number) {
  const contracts = ['month-to-month', 'one-year', 'two-year'];
  const lines = [CHURN_COLUMNS];
  for (let i = 0; i < rows; i++) {
    const tenure = i % 72;
    const monthly = 20 + (i % 100) * 0.85;
    lines.push(
      [
        tenure,
        monthly,
        tenure * monthly,
        contracts[i % 3],
        i % 7,
        i % 2 === 0,
      ].join(','),
    );
  }
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-e2e-'));
  backend = await startTestBackend();
  env = {
    PATH: process.env.PATH ?? '',
    HOME: tmp,
    MLP_CONFIG_DIR: path.join(tmp, 'config'),
    MLP_URL: backend.url,
  };
  // Another suite may have left churn deployed on a shared backend.
  const login = await mlp(['login', '--guest']);
  if (login.code !== 0) throw new Error(`mlp login --guest: ${login.stderr}`);
  for (const d of await mlpJson(['deployments', 'churn'])) {
    await mlpJson(['undeploy', d.id]);
  }
}, 300_000);

afterAll(async () => {
  await backend?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('mlp against a running portal', () => {
  let buildId: string;
  let version: number;

  it('signs in as guest and keeps the token readable by the user only', async () => {
    const login = await mlpJson(['login', '--guest', '--url', backend.url]);
    expect(login).toEqual({
      url: backend.url.replace(/\/$/, ''),
      method: 'guest',
      user: 'user:default/guest',
      credentialsFile: path.join(tmp, 'config', 'credentials.json'),
    });
    expect(fs.statSync(login.credentialsFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(login.credentialsFile)).mode & 0o777).toBe(
      0o700,
    );

    // Later commands use it: no MLP_TOKEN anywhere.
    const models = await mlpJson(['models']);
    expect(models.map((m: { ref: string }) => m.ref)).toEqual(
      expect.arrayContaining(['component:default/churn']),
    );

    // A pasted token the portal refuses is not kept.
    const bad = await mlp(['login', '--token-stdin', '-o', 'json'], {
      input: 'not-a-token\n',
    });
    expect(bad).toMatchObject({ code: 3, stdout: '' });
    expect(bad.stderr).toBe(`mlp: ${backend.url} refused the token\n`);
    expect(
      JSON.parse(fs.readFileSync(login.credentialsFile, 'utf8')).method,
    ).toBe('guest');
  });

  it('builds and waits, showing the steps on stderr', async () => {
    const run = await mlp(['build', 'churn', '--wait', '-o', 'json']);
    expect(run.code).toBe(0);
    const build = JSON.parse(run.stdout);
    expect(build).toMatchObject({
      modelRef: 'component:default/churn',
      status: 'succeeded',
      trigger: 'api',
      requestedBy: 'user:default/guest',
    });
    expect(run.stderr).toMatch(/build v\d+: succeeded/);
    expect(run.stderr).toMatch(/ {2}smoke succeeded \(\d+\.\ds\)/);
    buildId = build.id;
    version = build.version;

    const builds = await mlpJson(['builds', 'churn']);
    expect(builds[0]).toMatchObject({ id: buildId, version });
    const yaml = await mlp(['builds', 'churn', '-o', 'yaml']);
    expect(YAML.parse(yaml.stdout)[0].id).toBe(buildId);
    const table = await mlp(['builds', 'churn', '-o', 'table']);
    expect(table.stdout.split('\n')[0]).toMatch(
      /^VERSION +STATUS +BRANCH +COMMIT +TRIGGER/,
    );
    expect(table.stdout).toContain(`v${version}  `);
  });

  it('follows a build log until the build ends', async () => {
    const started = await mlpJson(['build', 'churn']);
    expect(['queued', 'running']).toContain(started.status);
    const follow = await mlp(['logs', started.id, '--follow', '-o', 'table']);
    expect(follow.code).toBe(0);
    const lines = follow.stdout.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        '==> checkout',
        '==> smoke',
        '==> package',
        'Build succeeded',
      ]),
    );
    // It ended because the build did: the build is over.
    expect((await mlpJson(['builds', 'churn']))[0]).toMatchObject({
      id: started.id,
      status: 'succeeded',
    });
  });

  it('deploys online, predicts records and V2, from a file and stdin', async () => {
    const deployment = await mlpJson([
      'deploy',
      'churn',
      '--build',
      `v${version}`,
      '--wait',
    ]);
    expect(deployment).toMatchObject({
      type: 'online',
      status: 'ready',
      buildId,
    });

    const rowsFile = path.join(tmp, 'rows.json');
    fs.writeFileSync(rowsFile, JSON.stringify(expected.map(e => e.input)));
    const records = await mlpJson(['predict', 'churn', '-d', '@rows.json']);
    expect(records.predictions).toHaveLength(expected.length);
    records.predictions.forEach((p: { churn_probability: number }, i: number) =>
      expect(p.churn_probability).toBeCloseTo(expected[i].churn_probability, 6),
    );

    const fromStdin = await mlpJson(['predict', 'default/churn', '-d', '-'], {
      input: JSON.stringify(expected[0].input),
    });
    expect(fromStdin.predictions[0].churn_probability).toBeCloseTo(
      expected[0].churn_probability,
      6,
    );

    const v2 = await mlpJson(['predict', 'churn', '--v2', '-d', '@rows.json']);
    const probabilities = v2.outputs.find(
      (o: { name: string }) => o.name === 'churn_probability',
    );
    expect(probabilities.data[1]).toBeCloseTo(expected[1].churn_probability, 6);

    const table = await mlp([
      'predict',
      'churn',
      '-d',
      '@rows.json',
      '-o',
      'table',
    ]);
    expect(table.stdout.split('\n')[0]).toMatch(/^CHURN_PROBABILITY +CHURN$/);
  });

  it('scales, rolls out, rolls back and shows replica logs', async () => {
    const scaled = await mlpJson([
      'scale',
      'churn',
      '--replicas',
      '2',
      '--wait',
    ]);
    expect(scaled).toMatchObject({
      replicas: 2,
      readyReplicas: 2,
      status: 'ready',
    });

    const newer = await mlpJson(['build', 'churn', '--wait']);
    const rolled = await mlpJson([
      'rollout',
      'churn',
      '--build',
      String(newer.version),
      '--wait',
    ]);
    expect(rolled).toMatchObject({ buildId: newer.id, status: 'ready' });
    const back = await mlpJson(['rollback', scaled.id, '--wait']);
    expect(back.buildId).not.toBe(newer.id);
    expect(back.status).toBe('ready');

    const logs = await mlp(['logs', scaled.id, '--tail', '50', '-o', 'table']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/\[r\d+\] /);
    const asJson = (await mlp(['logs', scaled.id, '-o', 'json'])).stdout
      .trim()
      .split('\n')
      .map(l => JSON.parse(l));
    expect(asJson[0]).toEqual(
      expect.objectContaining({
        seq: expect.any(Number),
        line: expect.any(String),
      }),
    );
  });

  it('follows replica logs until Ctrl-C', async () => {
    const [online] = await mlpJson(['deployments', 'churn']);
    const child = spawn(
      process.execPath,
      [BIN, 'logs', online.id, '--follow', '--tail', '3', '-o', 'table'],
      {
        cwd: tmp,
        env,
      },
    );
    let stdout = '';
    child.stdout.on('data', d => (stdout += d));
    const exited = new Promise<number | null>(resolve =>
      child.once('close', resolve),
    );
    while (stdout.split('\n').length < 3)
      await new Promise(r => setTimeout(r, 50));
    // New lines arrive while following: scaling down stops a replica.
    await mlpJson(['scale', 'churn', '--replicas', '1', '--wait']);
    const scaledDown = () =>
      stdout.split('[runtime] scaling from 2 to 1 replica(s)\n')[1] ?? '';
    for (let i = 0; i < 200 && !/stopped \(exit code/.test(scaledDown()); i++) {
      await new Promise(r => setTimeout(r, 50));
    }
    expect(scaledDown()).toMatch(
      /\[r\d+\] replica r\d+ stopped \(exit code 0\)\n/,
    );
    child.kill('SIGINT');
    expect(await exited).toBe(130);
  });

  it('runs a batch with progress, downloads the result, lists and cancels', async () => {
    const input = path.join(tmp, 'customers.csv');
    churnCsv(input, 2500);
    // The known rows go last: their results are checked against expected.json.
    fs.appendFileSync(
      input,
      expected
        .map(e =>
          CHURN_COLUMNS.split(',')
            .map(c => e.input[c])
            .join(','),
        )
        .join('\n')
        .concat('\n'),
    );
    // A batch deployment: its settings apply to the executions it runs.
    const batchDeployment = await mlpJson([
      'deploy',
      'churn',
      '--batch',
      '--chunk-size',
      '500',
      '--parallelism',
      '2',
    ]);
    expect(batchDeployment).toMatchObject({
      type: 'batch',
      status: 'ready',
      batch: { chunkSize: 500, parallelism: 2 },
    });
    const run = await mlp([
      'batch',
      'run',
      'churn',
      '--input',
      'customers.csv',
      '--output',
      'scores.csv',
      '--follow',
      '-o',
      'json',
    ]);
    expect(run.code).toBe(0);
    const execution = JSON.parse(run.stdout);
    const total = 2500 + expected.length;
    const totalText = total.toLocaleString('en-US');
    expect(execution).toMatchObject({
      deploymentId: batchDeployment.id,
      chunkSize: 500,
      status: 'succeeded',
      rowsDone: total,
      rowsTotal: total,
      rowsFailed: 0,
      chunksTotal: 6,
      input: { type: 'upload' },
      output: { type: 'file', format: 'csv' },
    });
    // Not a terminal: progress as plain lines on stderr, ending complete.
    expect(run.stderr).toMatch(/uploading customers\.csv \[=+\] +100%/);
    expect(run.stderr).toMatch(
      new RegExp(
        `execution ${execution.id.slice(
          0,
          8,
        )} \\[=+\\]  100%  ${totalText}/${totalText} rows  [\\d,]+ rows/s  succeeded`,
      ),
    );
    expect(run.stderr).toContain(
      `wrote ${totalText} rows to ${path.join(tmp, 'scores.csv')}`,
    );

    const result = fs
      .readFileSync(path.join(tmp, 'scores.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(result[0]).toBe('row_id,churn_probability,churn');
    expect(result).toHaveLength(total + 1);
    const byRow = new Map(
      result
        .slice(1)
        .map(l => [Number(l.split(',')[0]), Number(l.split(',')[1])]),
    );
    expected.forEach((e, i) =>
      expect(byRow.get(2500 + i)).toBeCloseTo(e.churn_probability, 6),
    );
    // Batch and online agree on the generated rows.
    const sample = fs.readFileSync(input, 'utf8').split('\n').slice(1, 4);
    const online = await mlpJson(['predict', 'churn', '-d', '-'], {
      input: JSON.stringify(
        sample.map(line => {
          const v = line.split(',');
          return {
            tenure_months: Number(v[0]),
            monthly_charges: Number(v[1]),
            total_charges: Number(v[2]),
            contract: v[3],
            support_calls: Number(v[4]),
            has_internet: v[5] === 'true',
          };
        }),
      ),
    });
    online.predictions.forEach((p: { churn_probability: number }, i: number) =>
      expect(byRow.get(i)).toBeCloseTo(p.churn_probability, 6),
    );

    const listed = await mlpJson(['batch', 'list', 'churn']);
    expect(listed[0].id).toBe(execution.id);
    const chunkLog = await mlp(['logs', execution.id, '-o', 'table']);
    expect(chunkLog.stdout).toContain(
      `chunk 5 rows 2500-${total - 1} succeeded`,
    );
    expect(chunkLog.stdout.trim().split('\n').at(-1)).toMatch(
      new RegExp(`execution succeeded, ${totalText}/${totalText} rows$`),
    );
    const again = path.join(tmp, 'again.csv');
    await mlpJson(['batch', 'result', execution.id, again]);
    expect(fs.readFileSync(again, 'utf8')).toBe(result.join('\n').concat('\n'));

    // A long run, cancelled: following it ends with exit 1. Long enough
    // (3,000 chunks) that warm batch workers cannot finish it between two
    // CLI starts on a loaded machine.
    const long = path.join(tmp, 'long.csv');
    churnCsv(long, 300_000);
    const started = await mlpJson([
      'batch',
      'run',
      'churn',
      '--input',
      long,
      '--output',
      'long-scores.jsonl',
      '--chunk-size',
      '100',
      '--parallelism',
      '1',
    ]);
    const cancelled = await mlpJson(['batch', 'cancel', started.id]);
    expect(['cancelled', 'running', 'pending']).toContain(cancelled.status);
    const followed = await mlp([
      'batch',
      'get',
      started.id,
      '--follow',
      '-o',
      'json',
    ]);
    expect(followed.code).toBe(1);
    expect(JSON.parse(followed.stdout).status).toBe('cancelled');
    expect(followed.stderr.trim().split('\n').at(-1)).toMatch(
      /^mlp: execution cancelled/,
    );
    const undeployed = await mlpJson(['undeploy', 'churn', '--batch']);
    expect(undeployed.id).toBe(batchDeployment.id);
  });

  it('exits 1 when a build waited for fails', async () => {
    const branch = pushFailingBranch(backend, path.join(tmp, 'work'));
    const run = await mlp([
      'build',
      'churn',
      '--branch',
      branch,
      '--wait',
      '-o',
      'json',
    ]);
    expect(run.code).toBe(1);
    const build = JSON.parse(run.stdout);
    expect(build).toMatchObject({ status: 'failed', branch });
    expect(run.stderr).toMatch(/ {2}test failed/);
    expect(run.stderr.trim().split('\n').at(-1)).toBe(
      `mlp: build v${build.version} failed: ${build.failureReason}`,
    );
  });

  it('exits 4, 2, 3 and 1 with the server’s one-line message', async () => {
    const cases: [string[], number, RegExp, Record<string, string>?][] = [
      [
        ['build', 'nosuch'],
        4,
        /^mlp: 404 No model component:default\/nosuch in the catalog\n$/,
      ],
      [
        ['logs', '00000000-0000-4000-8000-000000000000'],
        4,
        /no build, deployment or execution has the ID/,
      ],
      [
        ['build', 'churn', '--commit', 'zzz'],
        2,
        /^mlp: 400 body\.commit: expected a commit SHA/,
      ],
      [
        ['predict', 'churn', '-d', '[{"tenure_months": "x"}]'],
        2,
        /^mlp: 400 input 'tenure_months' row 0: expected integer/,
      ],
      [['models'], 3, /^mlp: 401 /, { MLP_TOKEN: 'not-a-token' }],
      [
        ['deploy', 'churn'],
        1,
        /^mlp: 409 component:default\/churn already has online deployment/,
      ],
      [
        ['predict', 'sentiment', '-d', '[{"text": "fine"}]'],
        1,
        /^mlp: 503 component:default\/sentiment has no online deployment/,
      ],
    ];
    for (const [args, code, message, extraEnv] of cases) {
      const run = await mlp(args, { env: extraEnv });
      expect({ args, code: run.code, stderr: run.stderr }).toEqual({
        args,
        code,
        stderr: expect.stringMatching(message),
      });
      expect(run.stderr.split('\n')).toHaveLength(2);
    }
  });

  it('exits 3 when a service tries a change: services only read and invoke', async () => {
    const asService = { MLP_TOKEN: backend.serviceToken };
    const run = await mlp(['build', 'churn'], { env: asService });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      /^mlp: 403 service:ml-platform-consumer is a service: services may read and invoke component:default\/churn, never change it/,
    );
  });

  it('draws the progress bar in a terminal (tmux)', async () => {
    const input = path.join(tmp, 'terminal.csv');
    churnCsv(input, 40_000);
    const socket = `mlp-e2e-${process.pid}`;
    const tmux = (...args: string[]) =>
      spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    const command = [
      'env',
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      process.execPath,
      BIN,
      'batch',
      'run',
      'churn',
      '--input',
      input,
      '--output',
      path.join(tmp, 'terminal.jsonl'),
      '--follow',
      '--chunk-size',
      '200',
      '--parallelism',
      '1',
    ]
      .map(a => `'${a.replace(/'/g, `'\\''`)}'`)
      .join(' ');
    const started = tmux(
      'new-session',
      '-d',
      '-s',
      'mlp',
      '-x',
      '150',
      '-y',
      '20',
      `${command}; echo "EXIT=$?"; sleep 60`,
    );
    expect(started.status).toBe(0);
    const frames: string[] = [];
    try {
      for (let i = 0; i < 600; i++) {
        const pane = tmux('capture-pane', '-p', '-t', 'mlp').stdout;
        if (pane !== frames.at(-1)) frames.push(pane);
        if (/EXIT=\d+/.test(pane)) break;
        await new Promise(r => setTimeout(r, 50));
      }
    } finally {
      tmux('kill-server');
    }
    const last = frames.at(-1)!;
    expect(last).toContain('EXIT=0');
    // The bar is redrawn in place: one line per bar, not one per update.
    const barLines = last.split('\n').filter(l => l.startsWith('execution '));
    expect(barLines).toEqual([
      expect.stringMatching(
        /^execution [0-9a-f]{8} \[={30}\] {2}100% {2}40,000\/40,000 rows {2}[\d,]+ rows\/s {2}succeeded$/,
      ),
    ]);
    // While it ran: a partial bar with rows/s and the time left.
    expect(frames.join('\n')).toMatch(
      /execution [0-9a-f]{8} \[=*> *\] +\d{1,2}% {2}[\d,]+\/40,000 rows {2}[\d,]+ rows\/s {2}ETA \d/,
    );
    // The table of the finished execution follows on stdout.
    expect(last).toMatch(/STATUS +ROWS +FAILED +CHUNKS/);
  });
});
