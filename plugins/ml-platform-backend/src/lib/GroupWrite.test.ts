import { GroupWrite } from './GroupWrite';

/** A store that records each write and answers when told to. */
function recordingStore() {
  const writes: number[][] = [];
  const pending: Array<() => void> = [];
  return {
    writes,
    /** Lets the oldest write under way finish. */
    finishOne: () => pending.shift()?.(),
    write: (items: number[]) => {
      writes.push(items);
      return new Promise<string[]>(resolve =>
        pending.push(() => resolve(items.map(i => `stored ${i}`))),
      );
    },
  };
}

const turn = () => new Promise(resolve => setImmediate(resolve));

describe('GroupWrite', () => {
  it('writes the items of one turn together, each caller getting its own result', async () => {
    const store = recordingStore();
    const group = new GroupWrite({ write: store.write, maxItems: 100 });
    const results = [1, 2, 3].map(i => group.add(i));
    await turn();
    expect(store.writes).toEqual([[1, 2, 3]]);
    store.finishOne();
    await expect(Promise.all(results)).resolves.toEqual([
      'stored 1',
      'stored 2',
      'stored 3',
    ]);
  });

  it('writes one group at a time: what arrives meanwhile is the next group', async () => {
    const store = recordingStore();
    const group = new GroupWrite({ write: store.write, maxItems: 2 });
    const first = group.add(1);
    await turn();
    const later = [2, 3, 4].map(i => group.add(i));
    await turn();
    expect(store.writes).toEqual([[1]]);
    store.finishOne();
    await first;
    await turn();
    // At most maxItems per write.
    expect(store.writes).toEqual([[1], [2, 3]]);
    store.finishOne();
    await turn();
    expect(store.writes).toEqual([[1], [2, 3], [4]]);
    store.finishOne();
    await expect(Promise.all(later)).resolves.toEqual([
      'stored 2',
      'stored 3',
      'stored 4',
    ]);
  });

  it('under load, lets a group wait lingerMs for more items; after a quiet spell, writes at once', async () => {
    const store = recordingStore();
    const group = new GroupWrite({
      write: store.write,
      maxItems: 100,
      lingerMs: 60,
    });
    const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
    const first = group.add(1);
    await turn();
    expect(store.writes).toEqual([[1]]); // nothing written before: at once
    store.finishOne();
    await first;
    // A write just ended: the next items wait together.
    const second = group.add(2);
    await sleep(10);
    const third = group.add(3);
    await turn();
    expect(store.writes).toEqual([[1]]);
    await sleep(100);
    expect(store.writes).toEqual([[1], [2, 3]]);
    store.finishOne();
    await Promise.all([second, third]);
    await sleep(150);
    const quiet = group.add(4);
    await turn();
    expect(store.writes).toEqual([[1], [2, 3], [4]]);
    store.finishOne();
    await expect(quiet).resolves.toBe('stored 4');
  });

  it('fails the callers of a failed write, and goes on with the next', async () => {
    let calls = 0;
    const group = new GroupWrite<number, number>({
      write: async items => {
        calls++;
        if (calls === 1) throw new Error('database is locked');
        return items.map(i => i * 10);
      },
      maxItems: 10,
    });
    const failed = [group.add(1), group.add(2)];
    for (const f of failed) {
      await expect(f).rejects.toThrow('database is locked');
    }
    await expect(group.add(3)).resolves.toBe(30);
  });
});
