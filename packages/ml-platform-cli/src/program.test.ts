import { Command } from 'commander';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { createProgram, run } from './program';
import { parseInput, parseOutput } from './commands/batch';
import { predictionRows, recordsBody, v2Body } from './commands/predict';
import { parseModelRef } from './lib/args';
import { credentialsFile, writeCredentials } from './lib/credentials';
import { Io } from './lib/io';
import { renderTable } from './lib/output';
import { renderProgress } from './lib/progress';
import { RowCounter } from './lib/rowCounter';
import { normalizeUrl } from './lib/session';

function testIo(env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    stdin: new PassThrough(),
    env,
    cwd: os.tmpdir(),
    fetch: () => Promise.reject(new Error('no network in this test')),
    signal: new AbortController().signal,
  };
  return { io, out: () => stdout, err: () => stderr };
}

function* commandsOf(command: Command): Generator<Command> {
  for (const sub of command.commands) {
    yield sub;
    yield* commandsOf(sub);
  }
}

describe('mlp', () => {
  it('has --help with examples on every command', async () => {
    const { io } = testIo();
    const names: string[] = [];
    for (const command of commandsOf(createProgram(io))) {
      const help = command.helpInformation() + (await helpAfter(command));
      names.push(command.name());
      expect(`${command.name()}: ${help}`).toMatch(
        /Examples:\n {2}# .+\n {2}\$ mlp /,
      );
    }
    expect(names).toEqual(
      expect.arrayContaining([
        'login',
        'models',
        'build',
        'builds',
        'logs',
        'deploy',
        'scale',
        'rollout',
        'rollback',
        'undeploy',
        'predict',
        'batch',
        'run',
        'list',
        'cancel',
      ]),
    );
  });

  /** What `--help` prints after the options (the examples). */
  async function helpAfter(command: Command) {
    const { io, out } = testIo();
    const names: string[] = [];
    for (let c: Command | null = command; c?.parent; c = c.parent)
      names.unshift(c.name());
    await run([...names, '--help'], io);
    return out();
  }

  it.each([
    [
      ['deploy'],
      /^mlp deploy: missing required argument 'model' \(see: mlp deploy --help\)\n$/,
    ],
    [['nosuch'], /^mlp: unknown command 'nosuch'/],
    [
      ['build', 'churn', '--branch', 'a', '--commit', 'b'],
      /cannot be used with option '--branch/,
    ],
    [
      ['models', '-o', 'xml'],
      /argument 'xml' is invalid. Allowed choices are table, json, yaml/,
    ],
    [
      ['scale', 'churn', '--replicas', '-1'],
      /unknown option '-1'|expected a whole number/,
    ],
    [
      ['scale', 'churn', '--replicas', 'two'],
      /--replicas <n>' argument 'two' is invalid. expected a whole number >= 0/,
    ],
    [['logs', 'not-an-id'], /"not-an-id" is not an ID/],
    [['predict', 'churn'], /required option '-d, --data <rows>' not specified/],
    [['build', 'a/b/c'], /"a\/b\/c" is not a model/],
    [
      ['batch', 'run', 'churn', '--input', 'x.txt', '--output', 'y.csv'],
      /--input: x.txt is not a .csv, .jsonl or .parquet file/,
    ],
    [
      ['deploy', 'churn', '--chunk-size', '5'],
      /--chunk-size is for batch deployments: add --batch/,
    ],
  ])('mlp %j is a usage error: one line, exit 2', async (argv, message) => {
    const { io, out, err } = testIo({
      MLP_URL: 'http://localhost:9',
      MLP_TOKEN: 't',
    });
    await expect(run(argv, io)).resolves.toBe(2);
    expect(err().split('\n')).toHaveLength(2); // one line and its newline
    expect(err()).toMatch(message);
    expect(out()).toBe('');
  });

  it('asks for credentials with exit 3 before calling anyone', async () => {
    const { io, err } = testIo({
      MLP_CONFIG_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-')),
    });
    await expect(run(['models'], io)).resolves.toBe(3);
    expect(err()).toBe(
      'mlp: not signed in: run `mlp login --url <portal>` or set MLP_URL and MLP_TOKEN\n',
    );
  });
});

describe('model names', () => {
  it('takes NAME, NAMESPACE/NAME and entity refs', () => {
    expect(parseModelRef('churn')).toEqual({
      namespace: 'default',
      name: 'churn',
    });
    expect(parseModelRef('team-a/churn')).toEqual({
      namespace: 'team-a',
      name: 'churn',
    });
    expect(parseModelRef('component:team-a/churn')).toEqual({
      namespace: 'team-a',
      name: 'churn',
    });
    expect(() => parseModelRef('-x')).toThrow(/not a model/);
    expect(() => parseModelRef('../x')).toThrow(/not a model/);
  });

  it('takes the portal or the API as the URL, never credentials in it', () => {
    expect(normalizeUrl('http://localhost:7007/')).toBe(
      'http://localhost:7007',
    );
    expect(normalizeUrl('https://p.example.com/api/ml-platform')).toBe(
      'https://p.example.com',
    );
    expect(() => normalizeUrl('http://u:p@x')).toThrow(
      /must not hold credentials/,
    );
    expect(() => normalizeUrl('file:///etc')).toThrow(/not an http/);
  });
});

describe('output', () => {
  it('aligns tables like kubectl', () => {
    expect(
      renderTable(
        [
          { a: 'x', n: 5 },
          { a: 'longer', n: 12345 },
        ],
        [
          { header: 'name', value: r => r.a },
          { header: 'count', value: r => r.n, align: 'right' },
        ],
      ),
    ).toBe('NAME    COUNT\nx           5\nlonger  12345\n');
  });

  it('draws a progress bar with rows/s and ETA', () => {
    expect(
      renderProgress(
        { done: 5200, total: 10000, rate: 1234.4, eta: 4 },
        'rows',
        20,
      ),
    ).toBe(
      '[==========>         ]   52%  5,200/10,000 rows  1,234 rows/s  ETA 4.0s',
    );
    expect(renderProgress({ done: 10, total: 10 }, 'rows', 4)).toBe(
      '[====]  100%  10/10 rows',
    );
    expect(renderProgress({ done: 3000 }, 'bytes')).toBe('3.0 kB');
  });
});

describe('predict bodies', () => {
  const rows = [
    { a: 1, b: 0.5, c: 'x', d: true },
    { a: 2, b: 1, c: 'y', d: false },
  ];

  it('sends rows as dataframe_records and passes MLflow bodies through', () => {
    expect(recordsBody(rows)).toEqual({ dataframe_records: rows });
    expect(recordsBody(rows[0])).toEqual({ dataframe_records: [rows[0]] });
    const split = { dataframe_split: { columns: ['a'], data: [[1]] } };
    expect(recordsBody(split)).toBe(split);
  });

  it('turns rows into V2 tensors typed from their values', () => {
    expect(v2Body(rows)).toEqual({
      inputs: [
        { name: 'a', shape: [2], datatype: 'INT64', data: [1, 2] },
        { name: 'b', shape: [2], datatype: 'FP64', data: [0.5, 1] },
        { name: 'c', shape: [2], datatype: 'BYTES', data: ['x', 'y'] },
        { name: 'd', shape: [2], datatype: 'BOOL', data: [true, false] },
      ],
    });
  });

  it('tabulates records and V2 answers alike', () => {
    expect(predictionRows({ predictions: [{ p: 0.1 }, 0.2] })).toEqual([
      { p: 0.1 },
      { prediction: 0.2 },
    ]);
    expect(
      predictionRows({
        outputs: [
          { name: 'p', shape: [2], data: [0.1, 0.9] },
          { name: 'v', shape: [2, 2], data: [1, 2, 3, 4] },
        ],
      }),
    ).toEqual([
      { p: 0.1, v: [1, 2] },
      { p: 0.9, v: [3, 4] },
    ]);
  });
});

describe('batch inputs and outputs', () => {
  it('reads files, URLs and SQL', () => {
    expect(parseInput('in/rows.csv', '/home/u')).toEqual({
      type: 'file',
      path: '/home/u/in/rows.csv',
      format: 'csv',
    });
    expect(parseInput('https://data.example.com/x.parquet?v=1', '/')).toEqual({
      type: 'url',
      url: 'https://data.example.com/x.parquet?v=1',
      format: 'parquet',
    });
    expect(parseInput('sql:warehouse:select a:b from t', '/')).toEqual({
      type: 'sql',
      connection: 'warehouse',
      query: 'select a:b from t',
    });
    expect(parseOutput('sql:warehouse:scores', '/')).toEqual({
      type: 'table',
      connection: 'warehouse',
      table: 'scores',
    });
    expect(() => parseInput('sql:nothing', '/')).toThrow(
      /expected sql:CONNECTION:QUERY/,
    );
  });
});

describe('row counts of uploads', () => {
  it('counts CSV records (quoted line breaks inside) and JSON lines, split anywhere', () => {
    const csv = new RowCounter('csv');
    const text = 'a,b\n1,"x\ny"\n2,"say ""hi"""\r\n3,z';
    for (const part of [text.slice(0, 9), text.slice(9, 20), text.slice(20)]) {
      csv.push(Buffer.from(part));
    }
    expect(csv.rows).toBe(3);
    const jsonl = new RowCounter('jsonl');
    jsonl.push(Buffer.from('{"a":1}\n\n{"a":"\\n"}\n'));
    expect(jsonl.rows).toBe(2);
  });
});

describe('credentials', () => {
  it('are readable by the user only', async () => {
    const env = {
      MLP_CONFIG_DIR: path.join(
        fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-')),
        'c',
      ),
    };
    const old = process.umask(0o022);
    try {
      await writeCredentials(env, {
        url: 'http://x',
        token: 't',
        method: 'token',
        savedAt: '',
      });
    } finally {
      process.umask(old);
    }
    expect(fs.statSync(credentialsFile(env)).mode & 0o777).toBe(0o600);
    expect(fs.statSync(env.MLP_CONFIG_DIR).mode & 0o777).toBe(0o700);
  });
});
