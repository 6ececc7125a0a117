import {
  checkRecordsRequest,
  checkV2Request,
  scanJson,
} from './invocationLimits';

const limits = { maxElements: 1000, maxJsonDepth: 8 };
const body = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
const tensor = (extra: object) => ({
  name: 'x',
  shape: [2],
  datatype: 'INT64',
  data: [1, 2],
  ...extra,
});
const v2 = (...inputs: object[]) => body({ inputs });

describe('scanJson', () => {
  it('counts array items without parsing, strings and escapes aside', () => {
    expect(scanJson(body('[1, [2, 3], [], "a,]b\\"", {"k": [4]}]'), 8)).toEqual(
      { arrayItems: 8 },
    );
    expect(scanJson(body('{"a": []}'), 8)).toEqual({ arrayItems: 0 });
  });

  it('stops at the first level past the limit', () => {
    expect(() => scanJson(body(`${'['.repeat(9)}${']'.repeat(9)}`), 8)).toThrow(
      'body: JSON nested deeper than 8 levels (mlPlatform.gateway.maxJsonDepth)',
    );
    expect(() =>
      scanJson(body(`${'['.repeat(8)}${']'.repeat(8)}`), 8),
    ).not.toThrow();
    // Brackets inside strings do not count.
    expect(() => scanJson(body(`["${'['.repeat(50)}"]`), 8)).not.toThrow();
  });
});

describe('checkV2Request', () => {
  it('accepts a request within its shapes and datatypes', () => {
    expect(() =>
      checkV2Request(
        v2(
          tensor({}),
          tensor({
            shape: [2, 2],
            data: [
              [1, 2],
              [3, 4],
            ],
          }),
          tensor({ datatype: 'BYTES', data: ['a', 'b'] }),
          tensor({ datatype: 'BOOL', data: [true, false] }),
          tensor({ datatype: 'FP32', data: [1.5, -2] }),
          tensor({ datatype: 'UINT8', data: [0, 255] }),
        ),
        limits,
      ),
    ).not.toThrow();
  });

  it.each([
    [
      tensor({ shape: [3000000, 0], data: [] }),
      /^body\.inputs\[0\]\.shape: \[3000000, 0\] stands for more than 1000 elements/,
    ],
    [
      tensor({ shape: [1001], data: [] }),
      /^body\.inputs\[0\]\.shape: .*more than 1000/,
    ],
    [
      tensor({ shape: [-1], data: [] }),
      /^body\.inputs\[0\]\.shape: expected an array of non-negative integers/,
    ],
    [
      tensor({ shape: [1.5], data: [] }),
      /shape: expected an array of non-negative integers/,
    ],
    [
      tensor({ shape: [3] }),
      /^body\.inputs\[0\]\.data: 2 values where shape \[3\] needs 3$/,
    ],
    [
      tensor({ datatype: 'UINT8', data: [300, 1] }),
      /^body\.inputs\[0\]\.data\[0\]: 300 is out of the UINT8 range 0 to 255$/,
    ],
    [
      tensor({ datatype: 'INT8', data: [1000, 1] }),
      /data\[0\]: 1000 is out of the INT8 range -128 to 127/,
    ],
    [
      tensor({ datatype: 'UINT32', data: [1, -1] }),
      /data\[1\]: -1 is out of the UINT32 range/,
    ],
    [tensor({ data: [2 ** 63, 1] }), /data\[0\]: .* out of the INT64 range/],
    [
      tensor({ datatype: 'UINT64', data: [2 ** 64, 1] }),
      /out of the UINT64 range/,
    ],
    [tensor({ data: [1.5, 1] }), /data\[0\]: expected an integer/],
    [
      tensor({ datatype: 'FP16', data: [70000, 1] }),
      /data\[0\]: 70000 is out of the FP16 range/,
    ],
    [
      tensor({ datatype: 'BOOL', data: [1, 0] }),
      /data\[0\]: expected true or false/,
    ],
    [
      tensor({ datatype: 'BYTES', data: [1, 2] }),
      /data\[0\]: expected a string/,
    ],
    [
      tensor({ datatype: 'INT128' }),
      /^body\.inputs\[0\]\.datatype: expected one of BOOL/,
    ],
    [tensor({ name: 7 }), /^body\.inputs\[0\]\.name: expected a name/],
  ])('refuses %j', (input, message) => {
    expect(() => checkV2Request(v2(input), limits)).toThrow(message);
  });

  it('counts the elements of all tensors together', () => {
    const half = tensor({ shape: [600], data: Array(600).fill(1) });
    expect(() => checkV2Request(v2(half, half), limits)).toThrow(
      /^body\.inputs: the tensors stand for more than 1000 elements together/,
    );
  });

  it.each([
    ['{"inputs": [', /^body: invalid JSON/],
    ['{"inputs": [{"data": [NaN]}]}', /^body: invalid JSON/],
    ['[]', /^body: expected a JSON object with inputs/],
    ['{"inputs": []}', /^body\.inputs: expected a non-empty array/],
    ['{"inputs": [1]}', /^body\.inputs\[0\]: expected a tensor object/],
  ])('refuses the body %s', (text, message) => {
    expect(() => checkV2Request(body(text), limits)).toThrow(message);
  });
});

describe('checkRecordsRequest', () => {
  it('bounds array items and parses the JSON', () => {
    expect(() =>
      checkRecordsRequest(body({ dataframe_records: [{ a: 1 }] }), limits),
    ).not.toThrow();
    expect(() =>
      checkRecordsRequest(
        body({ dataframe_records: Array(1001).fill({}) }),
        limits,
      ),
    ).toThrow(/^body: 1001 array items, more than 1000/);
    expect(() =>
      checkRecordsRequest(body('{"instances": [NaN]}'), limits),
    ).toThrow(/^body: invalid JSON/);
  });
});
