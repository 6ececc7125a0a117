import { parse as referenceParse } from 'csv-parse/sync';
import { CsvParser, CsvRecord, CsvSyntaxError, csvLine } from './csv';

/** Parses `text` fed in pieces of `size` characters. */
function parseInPieces(text: string, size: number): CsvRecord[] {
  const parser = new CsvParser();
  const records: CsvRecord[] = [];
  for (let i = 0; i < text.length; i += size) {
    records.push(...parser.push(text.slice(i, i + size)));
  }
  records.push(...parser.end());
  return records;
}

const SAMPLE = [
  '\uFEFFid,name,note',
  '1,plain,"with, comma"',
  '2,"quoted ""inner"" quotes",',
  '',
  '3,"multi',
  'line",x\r',
  '4,,""',
].join('\n');

describe('CsvParser', () => {
  it('parses quoting, escapes, multi-line fields, CRLF and blank lines', () => {
    expect(
      parseInPieces('\uFEFFa,b\r\n1,"x ""y"", z"\r\n\r\n2,"l1\nl2"\n', 1000),
    ).toEqual([
      { fields: ['a', 'b'], line: 1 },
      { fields: ['1', 'x "y", z'], line: 2 },
      { fields: ['2', 'l1\nl2'], line: 4 },
    ]);
  });

  it('gives the same records wherever the chunks are cut', () => {
    const whole = parseInPieces(SAMPLE, SAMPLE.length);
    for (let size = 1; size <= 12; size++) {
      expect(parseInPieces(SAMPLE, size)).toEqual(whole);
    }
    expect(whole.map(r => r.line)).toEqual([1, 2, 3, 5, 7]);
    expect(whole[3].fields).toEqual(['3', 'multi\nline', 'x']);
    expect(whole[4].fields).toEqual(['4', '', '']);
  });

  it('agrees with csv-parse on well-formed input', () => {
    const rows = [
      ['a', 'b', 'c'],
      ['1', 'with "quotes"', ''],
      ['x,y', 'multi\nline', ' spaced '],
      ['', '', 'é ü 😀'],
    ];
    const text = rows
      .map(r =>
        r
          .map(v => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v))
          .join(','),
      )
      .join('\r\n');
    expect(parseInPieces(text, 3).map(r => r.fields)).toEqual(
      referenceParse(text, { relax_column_count: true }),
    );
    // and csvLine writes what both read back
    const written = rows.map(csvLine).join('');
    expect(referenceParse(written, { relax_column_count: true })).toEqual(rows);
    expect(parseInPieces(written, 5).map(r => r.fields)).toEqual(rows);
    expect(csvLine(['a', 'b c', ''])).toBe('a,b c,\n');
  });

  it('keeps a lone "" line but skips blank lines', () => {
    expect(parseInPieces('a\n\n""\n\n', 2).map(r => r.fields)).toEqual([
      ['a'],
      [''],
    ]);
  });

  it('keeps a quote inside an unquoted field as text', () => {
    expect(parseInPieces('a,b"c\n', 100)[0].fields).toEqual(['a', 'b"c']);
  });

  it('reports an unclosed quote at the line it opens', () => {
    expect(() => parseInPieces('a,b\n1,"x\n2,3\n', 4)).toThrow(
      new CsvSyntaxError(2, 'quoted field is never closed'),
    );
    expect(() => parseInPieces('a\n"b\n', 100)).toThrow('line 2:');
  });

  it('reports text after a closing quote', () => {
    expect(() => parseInPieces('a,b\n"x\ny"z,1\n', 3)).toThrow(
      'line 3: unexpected "z" after the closing quote of field 1',
    );
  });
});
