import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CALL_LOG_FIELDS,
  CALL_LOG_RECORDS_PER_TURN,
  CallLogReader,
  LoggedCall,
  parseCallLog,
} from './CallLog';

/** A record as nginx writes it with mlp_calls' format. */
function record(request: string, answer: string, overrides: string[] = []) {
  const header = [
    'd-1',
    'b-1',
    'component:default/churn',
    'v2',
    'user',
    'user:default/ada',
    '200',
    '1234',
    '2',
    '1796455358.369',
    String(Buffer.byteLength(request)),
    String(Buffer.byteLength(answer)),
    String(Buffer.byteLength(answer)),
  ];
  overrides.forEach((v, i) => {
    if (v !== undefined) header[i] = v;
  });
  expect(header).toHaveLength(CALL_LOG_FIELDS.length);
  return `${header.join('\t')}\t${request}${answer}\n`;
}

function parse(text: string | Buffer) {
  const calls: LoggedCall[] = [];
  let corrupt = 0;
  const used = parseCallLog(
    Buffer.isBuffer(text) ? text : Buffer.from(text),
    c => calls.push(c),
    () => corrupt++,
  );
  return { calls, corrupt, used };
}

describe('parseCallLog', () => {
  it('reads bodies by their sizes: tabs, line breaks and UTF-8 inside them are data', () => {
    const request = '{"inputs": [\n\t{"name": "café"}]}';
    const answer = '{"outputs":\n[]}';
    const { calls, corrupt, used } = parse(
      record(request, answer) + record('{}', '{"a":1}'),
    );
    expect(corrupt).toBe(0);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({
      deploymentId: 'd-1',
      buildId: 'b-1',
      modelRef: 'component:default/churn',
      protocol: 'v2',
      callerKind: 'user',
      caller: 'user:default/ada',
      status: 200,
      latencyUs: 1234,
      inFlight: 2,
      endedAt: 1796455358369,
      answerBytes: Buffer.byteLength(answer),
    });
    expect(calls[0].request.toString()).toBe(request);
    expect(calls[0].answer.toString()).toBe(answer);
    expect(calls[1].answer.toString()).toBe('{"a":1}');
    expect(used).toBe(
      Buffer.byteLength(record(request, answer)) * 1 +
        Buffer.byteLength(record('{}', '{"a":1}')),
    );
  });

  it('stops before a record that is not all there yet, wherever it is cut', () => {
    const whole = Buffer.from(record('{"x": 1}', '{"y": 2}'));
    for (let cut = 0; cut < whole.length; cut++) {
      const { calls, corrupt, used } = parse(whole.subarray(0, cut));
      expect([calls.length, corrupt, used]).toEqual([0, 0, 0]);
    }
    expect(parse(whole).calls).toHaveLength(1);
  });

  it('skips a record whose sizes do not add up, and reads the next', () => {
    const bad = record('{"x": 1}', '{}', [...Array(10).fill(undefined), '3']);
    const { calls, corrupt } = parse(bad + record('{}', '{}'));
    expect(corrupt).toBe(1);
    expect(calls).toHaveLength(1);
    expect(calls[0].request.toString()).toBe('{}');
  });

  it('skips a record with a body size no record has, instead of waiting for it', () => {
    for (const field of [10, 12]) {
      const sizes: (string | undefined)[] = Array(13).fill(undefined);
      sizes[field] = String(64 * 1024 * 1024 + 1);
      const { calls, corrupt, used } = parse(
        record('{"x": 1}', '{}', sizes as string[]) + record('{}', '{"a":1}'),
      );
      expect([calls.length, corrupt]).toEqual([1, 1]);
      expect(calls[0].answer.toString()).toBe('{"a":1}');
      expect(used).toBeGreaterThan(0);
    }
  });

  it('skips a line too long to be a header, and waits for one that may be', () => {
    const junk = `${'x'.repeat(9000)}\n`;
    const { calls, corrupt } = parse(junk + record('{}', '{}'));
    expect([calls.length, corrupt]).toEqual([1, 1]);
    expect(calls[0].deploymentId).toBe('d-1');
    // Short and without its tabs yet: the rest of the record is to come.
    const partial = `${record('{}', '{}')}d-2\tb-2\t`;
    const cut = parse(partial);
    expect([cut.calls.length, cut.corrupt]).toEqual([1, 0]);
    expect(cut.used).toBe(Buffer.byteLength(record('{}', '{}')));
  });

  it('keeps no answer over the cap, and still its size', () => {
    const line = record('{}', '', [
      ...Array(11).fill(undefined),
      '5000000',
      '0',
    ]);
    const { calls } = parse(line);
    expect(calls[0].answerBytes).toBe(5000000);
    expect(calls[0].answer).toHaveLength(0);
  });

  it('decodes each text field anew when its bytes change, however little', () => {
    const callers = [
      'user:default/zoë',
      'user:default/zoë',
      'user:default/zoé', // the same length in bytes, one byte differs
      'user:default/zo',
      'service:mlp-batch',
    ];
    const ids = ['d-1', 'd-1', 'd-2', 'd-1', 'd-10'];
    const { calls } = parse(
      callers
        .map((caller, i) =>
          record('{}', '{}', [
            ids[i],
            `b-${i % 2}`,
            ...Array(3).fill(undefined),
            caller,
          ]),
        )
        .join(''),
    );
    expect(calls.map(c => [c.deploymentId, c.buildId, c.caller])).toEqual(
      callers.map((caller, i) => [ids[i], `b-${i % 2}`, caller]),
    );
  });

  it('reads numbers as Number reads what mlp_gateway.lua writes', () => {
    // A fixed seed: the same digits every run.
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const digitsOf = (n: number) =>
      Array.from({ length: n }, () => String(random(10))).join('');
    for (let i = 0; i < 500; i++) {
      const status = digitsOf(1 + random(3));
      const latency = digitsOf(1 + random(9));
      const inFlight = digitsOf(1 + random(4));
      // `%.3f` of ngx.now(), and fewer or more decimals should it change.
      const ended = `${digitsOf(1 + random(10))}.${digitsOf(random(5))}`;
      const answer = '{}'.padEnd(random(40), ' ');
      const size = String(Buffer.byteLength(answer));
      const { calls } = parse(
        record('{}', answer, [
          ...Array(6).fill(undefined),
          status,
          latency,
          inFlight,
          ended,
          undefined,
          size,
          size,
        ]),
      );
      expect(calls[0]).toMatchObject({
        status: Number(status),
        latencyUs: Number(latency),
        inFlight: Number(inFlight) || 1,
        endedAt: Math.round(Number(ended) * 1000),
        answerBytes: Number(size),
      });
    }
  });

  it('takes nothing but digits for a number', () => {
    const { calls, corrupt } = parse(
      record('{}', '{}', [
        ...Array(6).fill(undefined),
        '2OO',
        '-5',
        'x',
        '1e9',
      ]),
    );
    expect(corrupt).toBe(0);
    expect(calls[0]).toMatchObject({
      status: NaN,
      latencyUs: NaN,
      inFlight: 1,
      endedAt: NaN,
    });
  });
});

describe('CallLogReader', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-call-log-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const body = (i: number) => `{"inputs":[{"data":[${i}]}]}`;

  it('hands a long read over in turns of the event loop, in order', async () => {
    const file = path.join(dir, 'calls.log');
    const count = 5 * CALL_LOG_RECORDS_PER_TURN + 7;
    fs.writeFileSync(
      file,
      Array.from({ length: count }, (_, i) => record(body(i), '{}')).join(''),
    );
    const reader = new CallLogReader(file);
    // Turns of the event loop while the file is read, and the calls each
    // turn handed over: what a recorder holds as objects before it can
    // stage any as bytes.
    let turn = 0;
    let reading = true;
    const next = () => {
      turn++;
      if (reading) setImmediate(next);
    };
    setImmediate(next);
    const requests: string[] = [];
    const perTurn = new Map<number, number>();
    await reader.read(c => {
      requests.push(c.request.toString());
      perTurn.set(turn, (perTurn.get(turn) ?? 0) + 1);
    });
    reading = false;
    await reader.close();
    expect(requests).toEqual(Array.from({ length: count }, (_, i) => body(i)));
    expect(Math.max(...perTurn.values())).toBe(CALL_LOG_RECORDS_PER_TURN);
    expect(perTurn.size).toBe(6);
  });

  it('reads a record cut at the end of a read once the rest is there', async () => {
    const file = path.join(dir, 'calls.log');
    const whole = Array.from(
      { length: CALL_LOG_RECORDS_PER_TURN + 1 },
      (_, i) => record(body(i), '{"outputs":[]}'),
    ).join('');
    const cut = whole.length - 10;
    fs.writeFileSync(file, whole.slice(0, cut));
    const reader = new CallLogReader(file);
    const calls: LoggedCall[] = [];
    await reader.read(c => calls.push(c));
    expect(calls).toHaveLength(CALL_LOG_RECORDS_PER_TURN);
    fs.appendFileSync(file, whole.slice(cut));
    await reader.read(c => calls.push(c));
    await reader.close();
    expect(calls.map(c => c.request.toString())).toEqual(
      Array.from({ length: CALL_LOG_RECORDS_PER_TURN + 1 }, (_, i) => body(i)),
    );
    expect(calls[CALL_LOG_RECORDS_PER_TURN].answer.toString()).toBe(
      '{"outputs":[]}',
    );
  });
});
