import { FlushBuffer } from './FlushBuffer';

describe('FlushBuffer', () => {
  function buffer(options: { maxBuffered?: number; flushSize?: number } = {}) {
    const written: number[][] = [];
    const dropped: number[] = [];
    let release: () => void = () => {};
    const gate = { closed: false };
    const b = new FlushBuffer<number>({
      flushIntervalMs: 60_000,
      maxBuffered: options.maxBuffered ?? 100,
      flushSize: options.flushSize,
      write: async items => {
        if (gate.closed) await new Promise<void>(r => (release = r));
        written.push(items);
      },
      onDropped: count => dropped.push(count),
    });
    return { b, written, dropped, gate, release: () => release() };
  }

  it('writes what is buffered in one batch, nothing when empty', async () => {
    const { b, written } = buffer();
    b.push(1);
    b.push(2);
    await b.flush();
    await b.flush();
    expect(written).toEqual([[1, 2]]);
  });

  it('flushes on its own once flushSize items wait', async () => {
    const { b, written } = buffer({ flushSize: 2 });
    b.push(1);
    expect(written).toEqual([]);
    b.push(2);
    await b.flush();
    expect(written).toEqual([[1, 2]]);
  });

  it('drops past maxBuffered and says how many at the next flush', async () => {
    const { b, written, dropped } = buffer({ maxBuffered: 2 });
    [1, 2, 3, 4].forEach(i => b.push(i));
    await b.flush();
    expect(written).toEqual([[1, 2]]);
    expect(dropped).toEqual([2]);
    await b.flush();
    expect(dropped).toEqual([2]);
  });

  it('runs one write at a time, in order, and stop writes the rest', async () => {
    const { b, written, gate, release } = buffer();
    gate.closed = true;
    b.push(1);
    const first = b.flush();
    await new Promise(r => setImmediate(r)); // the first write has taken [1]
    b.push(2);
    const stopped = b.stop();
    await new Promise(r => setImmediate(r));
    expect(written).toEqual([]);
    gate.closed = false;
    release();
    await first;
    await stopped;
    expect(written).toEqual([[1], [2]]);
  });
});
