import { eventKeyOf } from './eventKeys';
import {
  JsonPathError,
  compiledJsonPath,
  parseJsonPath,
  selectAll,
} from './jsonPath';
import { PayloadError, mapPayload, passesFilter } from './payloadRules';

const payload = {
  id: 'evt-1',
  type: 'order',
  customer: { tier: 'gold', 'first name': 'Ada' },
  items: [
    { sku: 'a', qty: 1, price: 2.5 },
    { sku: 'b', qty: 3, price: 1 },
  ],
};

describe('JSONPath subset', () => {
  it('selects fields, indexes and every element', () => {
    expect(selectAll(parseJsonPath('$.customer.tier'), payload)).toEqual([
      'gold',
    ]);
    expect(
      selectAll(parseJsonPath("$.customer['first name']"), payload),
    ).toEqual(['Ada']);
    expect(selectAll(parseJsonPath('$.items[1].sku'), payload)).toEqual(['b']);
    expect(selectAll(parseJsonPath('$.items[*].qty'), payload)).toEqual([1, 3]);
    expect(selectAll(parseJsonPath('$.missing.deeper'), payload)).toEqual([]);
    expect(selectAll(parseJsonPath('$.constructor'), payload)).toEqual([]);
  });

  it('refuses what it does not support, saying what to use', () => {
    expect(() => parseJsonPath('customer')).toThrow(JsonPathError);
    expect(() => parseJsonPath('$..sku')).toThrow(/use .name/);
    expect(() => parseJsonPath('$.items[?(@.qty > 1)]')).toThrow(JsonPathError);
  });

  it('parses a path once per text, and refuses an invalid one every time', () => {
    const steps = compiledJsonPath('$.order.items[*].sku');
    expect(steps).toEqual(['order', 'items', '*', 'sku']);
    expect(compiledJsonPath('$.order.items[*].sku')).toBe(steps);
    expect(compiledJsonPath('$.order.id')).not.toBe(steps);
    for (let i = 0; i < 2; i++) {
      expect(() => compiledJsonPath('$..id')).toThrow(JsonPathError);
    }
  });
});

describe('filters', () => {
  it('holds on equality, membership and existence; a list must all hold', () => {
    expect(passesFilter(undefined, payload)).toBe(true);
    expect(passesFilter({ path: '$.type', equals: 'order' }, payload)).toBe(
      true,
    );
    expect(passesFilter({ path: '$.type', equals: 'refund' }, payload)).toBe(
      false,
    );
    expect(
      passesFilter(
        { path: '$.customer.tier', in: ['gold', 'silver'] },
        payload,
      ),
    ).toBe(true);
    expect(passesFilter({ path: '$.items[*].sku', equals: 'b' }, payload)).toBe(
      true,
    );
    expect(passesFilter({ path: '$.coupon', exists: false }, payload)).toBe(
      true,
    );
    expect(passesFilter({ path: '$.coupon', exists: true }, payload)).toBe(
      false,
    );
    expect(
      passesFilter(
        [
          { path: '$.type', equals: 'order' },
          { path: '$.customer.tier', equals: 'silver' },
        ],
        payload,
      ),
    ).toBe(false);
  });
});

describe('mapping', () => {
  it('maps one row, or one row per element of an array', () => {
    expect(
      mapPayload(
        { columns: { tier: '$.customer.tier', n: '$.items[0].qty' } },
        payload,
      ),
    ).toEqual([{ tier: 'gold', n: 1 }]);
    expect(
      mapPayload({ rows: '$.items', columns: { quantity: '$.qty' } }, payload),
    ).toEqual([{ quantity: 1 }, { quantity: 3 }]);
    expect(mapPayload({ rows: '$.items[*]' }, payload)).toEqual(payload.items);
  });

  it('names the column and path a payload lacks', () => {
    expect(() =>
      mapPayload(
        { rows: '$.items', columns: { discount: '$.discount' } },
        payload,
      ),
    ).toThrow(
      new PayloadError(
        'mapping.columns.discount: no value at $.discount in row 0 of $.items',
      ),
    );
    expect(() => mapPayload({ rows: '$.orders' }, payload)).toThrow(
      /no rows at \$\.orders/,
    );
    expect(() => mapPayload({ rows: '$.items[*].sku' }, payload)).toThrow(
      /row 0 of \$\.items\[\*\]\.sku is not an object/,
    );
  });
});

describe('idempotency keys', () => {
  const event = (metadata?: Record<string, string>, p: unknown = payload) => ({
    topic: 'orders',
    eventPayload: p,
    metadata,
  });

  it('takes the configured field, else the id header, else the payload id, else a hash', () => {
    expect(eventKeyOf(event({ 'x-event-id': 'h-1' }), '$.customer.tier')).toBe(
      'gold',
    );
    expect(eventKeyOf(event({ 'x-event-id': 'h-1' }), undefined)).toBe('h-1');
    expect(eventKeyOf(event({ 'ce-id': 'ce-1' }), undefined)).toBe('ce-1');
    expect(eventKeyOf(event({}), undefined)).toBe('evt-1');
    const noId = { type: 'order', n: 1 };
    const hashed = eventKeyOf(event({}, noId), undefined);
    expect(hashed).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(eventKeyOf(event({}, { ...noId }), undefined)).toBe(hashed);
    expect(eventKeyOf(event({}, { type: 'order', n: 2 }), undefined)).not.toBe(
      hashed,
    );
    expect(
      eventKeyOf(event({ 'x-event-id': 'x'.repeat(500) }), undefined),
    ).toMatch(/^sha256:/);
  });
});
