import { ByteWriter } from '../lib/ByteWriter';
import { JsonMembers, writeIsoTime, writeJsonNumber } from './eventJson';

function written(write: (out: ByteWriter) => void): string {
  const out = new ByteWriter(4);
  write(out);
  return out.from(0).toString('utf8');
}

/** A seeded generator, so a failure names the same value each run. */
function seeded(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

describe('writeJsonNumber', () => {
  it('writes what JSON.stringify writes, at every edge', () => {
    const edges = [
      0,
      -0,
      1,
      9,
      10,
      0.5,
      0.001,
      0.01,
      0.1,
      0.009,
      1.5,
      1.05,
      1.005,
      2.25,
      999.999,
      1000,
      123456789.123,
      1e12 - 0.001,
      1e12,
      1e15,
      1e21,
      1e-7,
      Number.MAX_SAFE_INTEGER,
      -1,
      -1.5,
      0.1 + 0.2,
      1 / 3,
      NaN,
      Infinity,
      -Infinity,
    ];
    for (const n of edges) {
      expect([n, written(out => writeJsonNumber(out, n))]).toEqual([
        n,
        JSON.stringify(n),
      ]);
    }
  });

  it('writes latencies rounded to thousandths as String writes them', () => {
    const random = seeded(15);
    for (let i = 0; i < 20_000; i++) {
      const scale = 10 ** Math.floor(random() * 10);
      const n = Math.round(random() * scale * 1000) / 1000;
      expect([n, written(out => writeJsonNumber(out, n))]).toEqual([
        n,
        String(n),
      ]);
    }
  });
});

describe('writeIsoTime', () => {
  it('writes what toISOString writes, quoted, across seconds and years', () => {
    const random = seeded(7);
    const times = [
      0, 1, 999, 1000, 1001, 59_999, 60_000, 1796455358369, 1796455358999,
      1796455359000, 253402300799999, 253402300800000, -1, 1.5, -62198755200000,
    ];
    for (let i = 0; i < 2_000; i++) {
      times.push(Math.floor(random() * 4e12));
      // Several within one second: the prefix formatted once is reused.
      times.push(times[times.length - 1] + Math.floor(random() * 1000));
    }
    for (const t of times) {
      expect([t, written(out => writeIsoTime(out, t))]).toEqual([
        t,
        JSON.stringify(new Date(t).toISOString()),
      ]);
    }
  });
});

describe('JsonMembers', () => {
  it('writes each member as JSON.stringify would, however often it repeats', () => {
    const members = new JsonMembers();
    const values = [
      'component:default/churn',
      'a "quoted" \\ value',
      'é ü',
      '',
    ];
    const out = new ByteWriter(4);
    const expected: string[] = [];
    for (let round = 0; round < 3; round++) {
      for (const v of values) {
        members.write(out, 'modelRef', v);
        members.write(out, 'caller', `${v}!`);
        expected.push(
          `,"modelRef":${JSON.stringify(v)}`,
          `,"caller":${JSON.stringify(`${v}!`)}`,
        );
      }
    }
    expect(out.from(0).toString('utf8')).toBe(expected.join(''));
  });

  it('keeps a bounded number of values per member', () => {
    const members = new JsonMembers();
    const out = new ByteWriter(4);
    for (let i = 0; i < 1000; i++) members.write(out, 'caller', `user:${i}`);
    const kept = (members as any).byName.get('caller') as Map<string, Buffer>;
    expect(kept.size).toBeLessThanOrEqual(256);
    expect(out.from(0).toString('utf8')).toBe(
      Array.from({ length: 1000 }, (_, i) => `,"caller":"user:${i}"`).join(''),
    );
  });
});
