import { isJson } from './isJson';

/** What JSON.parse says about the same bytes: the reference. */
function parses(bytes: Buffer): boolean {
  try {
    JSON.parse(bytes.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

const VALID = [
  '0',
  '-0',
  '1.5e+10',
  '-12.25E-3',
  '"a"',
  '""',
  'true',
  'false',
  'null',
  '[]',
  '{}',
  ' \t\r\n[ 1 , 2 ]\n',
  '{"a":{"b":[{"c":null}]},"d":"\\u00e9\\n\\"\\\\\\/\\b\\f\\r\\t"}',
  '{"inputs":[{"name":"x","datatype":"FP64","shape":[1],"data":[0.5]}]}',
  '"é ✓ 😀"',
  '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
];

const INVALID = [
  '',
  ' ',
  '1.',
  '.5',
  '01',
  '-',
  '+1',
  '1e',
  '1e+',
  '0x10',
  'NaN',
  'Infinity',
  '-Infinity',
  'tru',
  'nul',
  'True',
  "'a'",
  '"a',
  '"\\x"',
  '"\\u12g4"',
  '"tab\there"',
  '"line\nbreak"',
  '[1,]',
  '[,1]',
  '[1 2]',
  '{"a":1,}',
  '{"a" 1}',
  '{a:1}',
  '{"a":}',
  '{1:2}',
  '[1]]',
  '[[1]',
  '{"a":[1}',
  '[1]x',
  '1 2',
  '\ufeff{}',
  '[1] // comment',
];

describe('isJson', () => {
  it.each(VALID)('accepts %j', text => {
    expect(isJson(Buffer.from(text))).toBe(true);
  });

  it.each(INVALID)('refuses %j', text => {
    expect(isJson(Buffer.from(text))).toBe(false);
  });

  it('deep nesting needs no call stack', () => {
    const depth = 200_000;
    const deep = Buffer.from(`${'['.repeat(depth)}${']'.repeat(depth)}`);
    expect(isJson(deep)).toBe(true);
    expect(isJson(deep.subarray(1))).toBe(false);
  });

  it('agrees with JSON.parse on every one-byte change of real bodies', () => {
    const bodies = [
      '{"inputs":[{"name":"tenure_months","datatype":"INT64","shape":[1],"data":[12]},{"name":"contract","datatype":"BYTES","shape":[1],"data":["month-to-month"]}]}',
      '{"model_name":"churn","outputs":[{"name":"p","datatype":"FP64","shape":[2],"data":[0.25,-1.5e-3]}],"parameters":{"kpis":{"revenue_at_risk":12.5}}}',
      '{"predictions":[{"will_churn":true,"note":"a \\"quoted\\" é"},null,false]}',
    ];
    // Bytes that change a JSON text's meaning wherever they land.
    const replacements = [...'{}[]",:\\ 0123456789.-+eEtrufalsn/\tx'].map(c =>
      c.charCodeAt(0),
    );
    replacements.push(0x00, 0x1f, 0x7f, 0x80, 0xc3, 0xff);
    let checked = 0;
    for (const text of bodies) {
      const original = Buffer.from(text);
      for (let i = 0; i < original.length; i++) {
        for (const byte of replacements) {
          const changed = Buffer.from(original);
          changed[i] = byte;
          expect([i, byte, isJson(changed)]).toEqual([
            i,
            byte,
            parses(changed),
          ]);
          checked++;
        }
        // The byte left out.
        const cut = Buffer.concat([
          original.subarray(0, i),
          original.subarray(i + 1),
        ]);
        expect([i, 'cut', isJson(cut)]).toEqual([i, 'cut', parses(cut)]);
      }
    }
    expect(checked).toBeGreaterThan(10_000);
  });

  it('reads only the view it is given', () => {
    const log = Buffer.from('xx{"a":1}yy');
    expect(isJson(log.subarray(2, 9))).toBe(true);
    expect(isJson(log.subarray(2, 10))).toBe(false);
  });
});
