import { splitCsvRecords } from './sources';

async function split(pieces: string[]) {
  const out: string[] = [];
  for await (const batch of splitCsvRecords(pieces.map(p => Buffer.from(p)))) {
    out.push(...batch);
  }
  return out;
}

const text = [
  'id,comment,score',
  '1,plain,0.5',
  '2,"quoted, with comma",1',
  '3,"two',
  'lines ""quoted""",2',
  '',
  '4,"""starts with a quote",3\r',
  '5,é accents,4',
].join('\n');

const records = [
  '1,plain,0.5',
  '2,"quoted, with comma",1',
  '3,"two\nlines ""quoted""",2',
  '4,"""starts with a quote",3',
  '5,é accents,4',
];

describe('splitCsvRecords', () => {
  it('keeps quoted line breaks, skips the header and blank lines', async () => {
    expect(await split([text])).toEqual(records);
  });

  it('gives the same records however the bytes are cut', async () => {
    const bytes = Buffer.from(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const out: string[] = [];
      const pieces = [bytes.subarray(0, cut), bytes.subarray(cut)];
      for await (const batch of splitCsvRecords(pieces)) out.push(...batch);
      expect({ cut, out }).toEqual({ cut, out: records });
    }
  });

  it('ends a last record without a line break', async () => {
    expect(await split(['a,b\n1,2\n3,4'])).toEqual(['1,2', '3,4']);
  });
});
