import { PredictionEvent } from '@internal/plugin-ml-platform-common';
import { encodePredictionEvent, withBodyText } from './PredictionEventStore';

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
