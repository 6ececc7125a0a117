import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { planChunks } from './planner';
import { fileSource } from './sources';
import { makeTempDir } from './testUtils';

jest.setTimeout(30_000);

const ROWS = 200_000;
const CHUNK_SIZE = 5_000;
const MB = 1024 * 1024;

/** The collector, exposed at runtime when node was not started with --expose-gc. */
function exposeGc(): (() => void) | undefined {
  if (typeof global.gc === 'function') return global.gc;
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc');
  } catch {
    return undefined;
  }
}

async function writeCsv(path: string) {
  const out = createWriteStream(path);
  // short rows keep the test fast (async iteration is slow under Jest)
  out.write('id,age,plan,note\n');
  for (let i = 0; i < ROWS; i++) {
    const line = `${i},${20 + (i % 60)},${i % 3 ? 'g' : 'b'},"${i % 10},x"\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

describe('planChunks memory', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await makeTempDir());
  });
  afterAll(() => cleanup());

  it(`plans ${ROWS} CSV rows with flat memory`, async () => {
    const input = join(dir, 'big.csv');
    await writeCsv(input);
    const gc = exposeGc();

    gc?.();
    const baseHeap = process.memoryUsage().heapUsed;
    const baseRss = process.memoryUsage().rss;
    let peakHeap = 0;
    let peakRss = 0;
    let chunks = 0;
    let lastEnd = 0;
    let nextOffset: number | undefined;
    const started = Date.now();
    for await (const chunk of planChunks({
      source: fileSource(input),
      chunkSize: CHUNK_SIZE,
      dir: join(dir, 'chunks'),
    })) {
      chunks += 1;
      lastEnd = chunk.rowEnd;
      // byte ranges of the input, one after the other
      expect(chunk.range!.offset).toBe(nextOffset ?? chunk.range!.offset);
      nextOffset = chunk.range!.offset + chunk.range!.length;
      if (gc && chunks % 8 === 0) {
        gc();
        peakHeap = Math.max(
          peakHeap,
          process.memoryUsage().heapUsed - baseHeap,
        );
      }
      peakRss = Math.max(peakRss, process.memoryUsage().rss - baseRss);
    }
    const seconds = (Date.now() - started) / 1000;

    expect(chunks).toBe(ROWS / CHUNK_SIZE);
    expect(lastEnd).toBe(ROWS);
    expect(nextOffset).toBe((await fs.stat(input)).size);
    // nothing is copied
    const names = await fs.readdir(join(dir, 'chunks'));
    expect(names.filter(n => n.startsWith('chunk-'))).toEqual([]);
    // all 200k rows held as objects take ~30 MB of heap; one read ~1 MB.
    // Without a collector to call, the peak RSS is the coarser measure.
    const growth = gc ? peakHeap : peakRss;
    expect(growth).toBeLessThan(gc ? 8 * MB : 64 * MB);
    // eslint-disable-next-line no-console
    console.log(
      `planned ${ROWS} rows in ${seconds}s; heap growth after gc ${(
        peakHeap / MB
      ).toFixed(1)} MB (gc ${gc ? 'exposed' : 'unavailable'}), rss growth ${(
        peakRss / MB
      ).toFixed(1)} MB`,
    );
  });
});
