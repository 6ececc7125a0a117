import { PredictionEvent } from '@internal/plugin-ml-platform-common';
import { EventSegmentBuilder } from './EventSegmentBuilder';
import {
  encodePredictionEvent,
  predictionEventParts,
  withBodyText,
} from './PredictionEventStore';

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

describe('encodePredictionEvent', () => {
  it('writes the body text as it came, and decodes to the same event', () => {
    const requestText = '{ "inputs": [ {"name":"a","data":[1.50]} ] }';
    const event = withBodyText(
      { ...meta, request: JSON.parse(requestText), response: { x: [true] } },
      { request: requestText },
    );
    const encoded = encodePredictionEvent(event);
    // The request's own spelling (spaces, 1.50) is kept, not re-encoded.
    expect(encoded).toContain(`"request":${requestText}`);
    expect(JSON.parse(encoded)).toEqual(JSON.parse(JSON.stringify(event)));
  });

  it('is plain JSON without body text, and the text stays out of JSON', () => {
    const event = { ...meta, request: { a: 1 } };
    expect(encodePredictionEvent(event)).toBe(JSON.stringify(event));
    const kept = withBodyText({ ...meta }, { response: '{"y":2}' });
    expect(JSON.stringify(kept)).toBe(JSON.stringify(meta));
    expect(JSON.parse(encodePredictionEvent(kept))).toEqual({
      ...meta,
      response: { y: 2 },
    });
  });
});

describe('predictionEventParts', () => {
  it("writes body bytes as they came, without reading the event's body", () => {
    const request = Buffer.from('{"inputs": [1.50, "é"]}');
    const event = withBodyText({ ...meta }, { request });
    // A body that throws when read: the bytes are written, not the value.
    Object.defineProperty(event, 'request', {
      enumerable: true,
      get() {
        throw new Error('read');
      },
    });
    const parts = predictionEventParts(event);
    expect(parts).toContain(request);
    const json = Buffer.concat(
      parts.map(p => (typeof p === 'string' ? Buffer.from(p) : p)),
    ).toString('utf8');
    expect(json).toContain('"request":{"inputs": [1.50, "é"]}');
    expect(JSON.parse(json)).toEqual({
      ...meta,
      request: { inputs: [1.5, 'é'] },
    });
  });
});

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
    const request = '{"inputs":[{"name":"city","data":["Zürich €"]}]}';
    const added: PredictionEvent[] = [];
    for (let i = 0; i < 400; i++) {
      const e = withBodyText(
        event(`e${i}`, 'component:default/a', new Date(i).toISOString(), {
          request: JSON.parse(request),
          caller: 'user:default/josé',
        }),
        { request },
      );
      added.push(e);
      builder.add(e);
    }
    const [segment] = builder.take();
    expect(segment.json.length).toBeGreaterThan(16 * 1024);
    expect(segment.json.toString('utf8')).toContain(request);
    expect(parse(segment.json)).toEqual(added);
  });

  it("reuses a released segment's buffer, and never one still taken", () => {
    const builder = new EventSegmentBuilder(1000);
    const request = Buffer.from('{"inputs":[{"name":"x","data":[1]}]}');
    const fill = (prefix: string) => {
      for (let i = 0; i < 300; i++) {
        builder.add(
          withBodyText(
            event(`${prefix}${i}`, 'component:default/a', meta.time),
            { request },
          ),
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
