import { PredictionEvent } from '@internal/plugin-ml-platform-common';
import { EventSegmentBuilder } from './EventSegmentBuilder';

const meta = {
  id: 'e1',
  time: '2026-12-04T10:00:00.000Z',
  modelRef: 'component:default/churn',
  version: 2,
  buildId: 'b1',
  callerKind: 'user',
  trigger: 'http',
  route: 'v2',
  latencyMs: 1.5,
  status: 200,
  sampled: true,
} as PredictionEvent;

const event = (
  id: string,
  modelRef: string,
  time: string,
  extra: Partial<PredictionEvent> = {},
): PredictionEvent => ({ ...meta, id, modelRef, time, ...extra });

const parse = (json: Buffer) => JSON.parse(json.toString('utf8'));

describe('EventSegmentBuilder', () => {
  it('builds one JSON array per model with its time range, then starts empty', () => {
    const builder = new EventSegmentBuilder(100);
    const a1 = event('a1', 'component:default/a', '2026-12-04T10:00:02.000Z');
    const b1 = event('b1', 'component:default/b', '2026-12-04T10:00:05.000Z');
    const a2 = event('a2', 'component:default/a', '2026-12-04T10:00:01.000Z');
    for (const e of [a1, b1, a2]) builder.add(e);
    expect(builder.size).toBe(3);

    const segments = builder.take();
    expect(segments.map(s => [s.modelRef, s.count])).toEqual([
      ['component:default/a', 2],
      ['component:default/b', 1],
    ]);
    expect(parse(segments[0].json)).toEqual([a1, a2]);
    expect(parse(segments[1].json)).toEqual([b1]);
    expect(segments[0].minTime).toBe(Date.parse(a2.time));
    expect(segments[0].maxTime).toBe(Date.parse(a1.time));

    expect(builder.size).toBe(0);
    expect(builder.take()).toEqual([]);
  });

  it('starts a new segment at the segment size', () => {
    const builder = new EventSegmentBuilder(2);
    for (let i = 0; i < 5; i++) {
      builder.add(
        event(`e${i}`, 'component:default/a', new Date(i).toISOString()),
      );
    }
    const segments = builder.take();
    expect(segments.map(s => s.count)).toEqual([2, 2, 1]);
    expect(
      segments.flatMap(s => parse(s.json).map((e: PredictionEvent) => e.id)),
    ).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
  });

  it('keeps bodies as they came, multi-byte text included, past its first buffer', () => {
    const builder = new EventSegmentBuilder(1000);
    // 'é' and '€' are 2 and 3 bytes in UTF-8; 400 events outgrow 16 KiB.
    const request = '{"inputs":[{"name":"city","data":["Zürich €", 1.50]}]}';
    const added: PredictionEvent[] = [];
    for (let i = 0; i < 400; i++) {
      const e = event(
        `e${i}`,
        'component:default/a',
        new Date(i).toISOString(),
        {
          caller: 'user:default/josé',
        },
      );
      added.push({ ...e, request: JSON.parse(request) });
      builder.addJson(
        e.modelRef,
        `${JSON.stringify(e).slice(0, -1)},"request":${request}}`,
        Date.parse(e.time),
      );
    }
    const [segment] = builder.take();
    expect(segment.json.length).toBeGreaterThan(16 * 1024);
    // The body's own spelling (1.50) is kept, not encoded again.
    expect(segment.json.toString('utf8')).toContain(`"request":${request}`);
    expect(parse(segment.json)).toEqual(added);
    expect(segment.minTime).toBe(0);
    expect(segment.maxTime).toBe(399);
  });

  it("reuses a released segment's buffer, and never one still taken", () => {
    const builder = new EventSegmentBuilder(1000);
    const request = Buffer.from('{"inputs":[{"name":"x","data":[1]}]}');
    const fill = (prefix: string) => {
      for (let i = 0; i < 300; i++) {
        const e = event(`${prefix}${i}`, 'component:default/a', meta.time);
        builder.addJson(
          e.modelRef,
          Buffer.concat([
            Buffer.from(`${JSON.stringify(e).slice(0, -1)},"request":`),
            request,
            Buffer.from('}'),
          ]),
          Date.parse(e.time),
        );
      }
    };
    fill('a');
    const [first] = builder.take();
    const firstText = first.json.toString('utf8');
    // Not released: the next segment gets a buffer of its own.
    fill('b');
    const [second] = builder.take();
    expect(second.json.buffer).not.toBe(first.json.buffer);
    expect(first.json.toString('utf8')).toBe(firstText);
    builder.release();
    fill('c');
    const [third] = builder.take();
    expect(third.json.buffer).toBe(second.json.buffer);
    const ids = parse(third.json).map((e: PredictionEvent) => e.id);
    expect(ids).toHaveLength(300);
    expect(ids[0]).toBe('c0');
    expect(parse(third.json)[299].request).toEqual(JSON.parse(`${request}`));
  });
});
