import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { join } from 'node:path';
import { JsonlConcatSink } from './concatSink';
import { makeTempDir } from './testUtils';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(() => cleanup());

async function resultFile(seq: number, lines: number) {
  const path = join(dir, `result-${seq}.jsonl`);
  const text = Array.from(
    { length: lines },
    (_, i) => `{"row_id": ${seq * 100 + i}, "p": ${i / 10}}\n`,
  ).join('');
  await fs.writeFile(path, text);
  return { seq, path, text };
}

describe('JsonlConcatSink', () => {
  it('appends chunks in sequence order as they end, hashing on the way', async () => {
    const files = await Promise.all(
      [3, 1, 4, 2].map((n, seq) => resultFile(seq, n)),
    );
    const dest = join(dir, 'out', 'result.jsonl');
    const sink = new JsonlConcatSink(dest);
    // chunk 1 ends first: it waits for chunk 0
    expect(await sink.writeChunk(files[1].path, 1, 1)).toEqual({ rows: 0 });
    expect(await sink.writeChunk(files[0].path, 0, 3)).toEqual({ rows: 4 });
    // a chunk that succeeded before a restart: lines counted from its file
    sink.alreadyWritten(files[2].path, 2);
    const summary = await sink.finish(files);
    const text = files.map(f => f.text).join('');
    expect(await fs.readFile(dest, 'utf8')).toBe(text);
    expect(summary).toEqual({
      rows: 10,
      digest: `sha256:${createHash('sha256').update(text).digest('hex')}`,
    });
    expect((await fs.readdir(join(dir, 'out'))).sort()).toEqual([
      'result.jsonl',
    ]);
  });

  it('copies files larger than its buffer', async () => {
    const big = await resultFile(0, 40_000);
    const sink = new JsonlConcatSink(join(dir, 'big.jsonl'));
    await sink.writeChunk(big.path, 0);
    expect(await sink.finish([big])).toMatchObject({ rows: 40_000 });
    expect(await fs.readFile(join(dir, 'big.jsonl'), 'utf8')).toBe(big.text);
  });

  it('refuses to finish with a chunk missing', async () => {
    const file = await resultFile(1, 2);
    const sink = new JsonlConcatSink(join(dir, 'gap.jsonl'));
    await expect(
      sink.finish([
        { seq: 1, path: file.path },
        { seq: 1, path: file.path },
      ]),
    ).rejects.toThrow('chunk 0 has no result file');
    await sink.close();
  });
});
