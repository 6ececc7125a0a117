import { TestDatabaseId } from '@backstage/backend-test-utils';
import {
  createTestStores,
  storeTestDatabases as databases,
} from '../../__testUtils__/stores';
import { NewLogLine } from './LogStore';

jest.setTimeout(60_000);

async function createStore(databaseId: TestDatabaseId) {
  const { stores } = await createTestStores(databaseId);
  return stores.modelLogs;
}

const T0 = Date.UTC(2026, 11, 3, 10, 0, 0);
const line = (
  n: number,
  text: string,
  overrides: Partial<NewLogLine> = {},
): NewLogLine => ({
  modelRef: 'component:default/churn',
  source: 'build',
  subjectId: 'b1',
  version: 1,
  time: T0 + n * 1000,
  level: 'info',
  line: text,
  ...overrides,
});

describe.each(databases.eachSupportedId())('DatabaseLogStore on %s', id => {
  it('searches by source, substring, level and time, oldest first', async () => {
    const store = await createStore(id);
    await store.appendLines([
      line(1, 'Collecting numpy', { stream: 'install' }),
      line(2, 'WARNING: pip is old', { level: 'warn' }),
      line(3, 'Ran 3 tests: OK'),
      line(4, 'ERROR: replica crashed', {
        source: 'deployment',
        subjectId: 'd1',
        level: 'error',
      }),
      line(5, 'chunk 3 done: 100% of rows_ok', {
        source: 'execution',
        subjectId: 'x1',
      }),
      line(6, 'other model', { modelRef: 'component:default/other' }),
    ]);
    const q = { modelRef: 'component:default/churn', limit: 100 };
    const texts = async (extra: object) =>
      (await store.searchLines({ ...q, ...extra })).map(l => l.line);
    expect(await texts({})).toEqual([
      'Collecting numpy',
      'WARNING: pip is old',
      'Ran 3 tests: OK',
      'ERROR: replica crashed',
      'chunk 3 done: 100% of rows_ok',
    ]);
    expect(await texts({ source: 'build', q: 'NUMPY' })).toEqual([
      'Collecting numpy',
    ]);
    expect(await texts({ level: 'warn' })).toEqual([
      'WARNING: pip is old',
      'ERROR: replica crashed',
    ]);
    // LIKE wildcards are literal.
    expect(await texts({ q: '100%' })).toEqual([
      'chunk 3 done: 100% of rows_ok',
    ]);
    expect(await texts({ q: 's_o' })).toEqual([
      'chunk 3 done: 100% of rows_ok',
    ]);
    expect(await texts({ q: '%' })).toEqual(['chunk 3 done: 100% of rows_ok']);
    expect(await texts({ from: T0 + 2000, to: T0 + 4000 })).toEqual([
      'WARNING: pip is old',
      'Ran 3 tests: OK',
    ]);
    const [first] = await store.searchLines({
      ...q,
      limit: 1,
      source: 'build',
      afterId: 0,
    });
    expect(first).toMatchObject({
      stream: 'install',
      version: 1,
      time: T0 + 1000,
    });
  });

  it('answers the newest lines, then follows after an id; deletes past retention', async () => {
    const store = await createStore(id);
    await store.appendLines(
      Array.from({ length: 10 }, (_, i) => line(i, `line ${i}`)),
    );
    const q = { modelRef: 'component:default/churn' };
    const tail = await store.searchLines({ ...q, limit: 3 });
    expect(tail.map(l => l.line)).toEqual(['line 7', 'line 8', 'line 9']);
    await store.appendLines([line(10, 'line 10')]);
    const next = await store.searchLines({
      ...q,
      limit: 100,
      afterId: tail[2].id,
    });
    expect(next.map(l => l.line)).toEqual(['line 10']);
    expect(await store.deleteBefore(T0 + 5000)).toBe(5);
    expect(await store.searchLines({ ...q, limit: 100 })).toHaveLength(6);
  });
});
