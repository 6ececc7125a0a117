import { CsvRangeScanner, CsvRecordRange } from './csvRanges';

/** Ranges of `text` fed `step` bytes at a time, and the header. */
function scan(text: string, perRange: number, step = Infinity) {
  const bytes = Buffer.from(text);
  const scanner = new CsvRangeScanner(perRange);
  const ranges: CsvRecordRange[] = [];
  for (let i = 0; i < bytes.length; i += step) {
    ranges.push(...scanner.push(bytes.subarray(i, i + step)));
  }
  ranges.push(...scanner.end());
  const texts = ranges.map(r =>
    bytes.subarray(r.offset, r.offset + r.length).toString(),
  );
  return { header: scanner.header, ranges, texts };
}

describe('CsvRangeScanner', () => {
  const text =
    'id,"multi\nline header"\r\n1,"x\n\ny"\r\n\r\n2,plain\n3,"say ""hi""\r\n"\n\n4,é\n5,last';

  it('cuts whole records, skipping blank lines and quoted line breaks', () => {
    const { header, ranges, texts } = scan(text, 2);
    expect(header).toBe('id,"multi\nline header"');
    expect(texts).toEqual([
      '1,"x\n\ny"\r\n\r\n2,plain\n',
      '3,"say ""hi""\r\n"\n\n4,é\n',
      '5,last',
    ]);
    expect(ranges.map(r => [r.records, r.firstLine])).toEqual([
      [2, 3],
      [2, 8],
      [1, 12],
    ]);
  });

  it('gives the same ranges whatever the read size', () => {
    const whole = scan(text, 2);
    for (const step of [1, 2, 3, 5, 8]) {
      expect(scan(text, 2, step)).toEqual(whole);
    }
    expect(scan(`${text}\r\n\r\n`, 3, 1).texts).toEqual(
      scan(`${text}\r\n\r\n`, 3).texts,
    );
  });

  it('drops a BOM from the header and handles empty inputs', () => {
    expect(scan('\ufeffa,b\r\n1,2\r\n', 10)).toMatchObject({
      header: 'a,b',
      texts: ['1,2\r\n'],
    });
    expect(scan('', 10)).toEqual({ header: undefined, ranges: [], texts: [] });
    expect(scan('\n\na\n\n', 10)).toEqual({
      header: 'a',
      ranges: [],
      texts: [],
    });
  });

  it('refuses a file without a header line in its first megabyte', () => {
    const scanner = new CsvRangeScanner(10);
    expect(() => scanner.push(Buffer.alloc(2 * 1024 * 1024, 97))).toThrow(
      /no CSV header record/,
    );
  });
});
