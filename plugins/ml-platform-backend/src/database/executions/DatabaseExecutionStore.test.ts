import {
  createTestStores,
  storeTestDatabases as databases,
} from '../../__testUtils__/stores';

jest.setTimeout(60_000);

const createStore = createTestStores;

describe.each(databases.eachSupportedId())(
  'DatabaseExecutionStore (%s)',
  databaseId => {
    it('sums execution progress from its chunks', async () => {
      const { stores } = await createStore(databaseId);
      const e = await stores.executions.createExecution({
        modelRef: 'component:default/a',
        buildId: '11111111-1111-1111-1111-111111111111',
        input: { type: 'path', path: 'in.csv' },
        output: { type: 'file', format: 'jsonl' },
        chunkSize: 100,
        parallelism: 2,
        maxRetries: 3,
      });
      expect(e).toMatchObject({
        status: 'pending',
        chunksDone: 0,
        rowsDone: 0,
      });
      await stores.executions.addChunks([
        { executionId: e.id, seq: 0, rowStart: 0, rowEnd: 100 },
        { executionId: e.id, seq: 1, rowStart: 100, rowEnd: 200 },
        { executionId: e.id, seq: 2, rowStart: 200, rowEnd: 250 },
      ]);
      await stores.executions.updateExecution(e.id, {
        status: 'running',
        chunksTotal: 3,
        rowsTotal: 250,
      });
      await stores.executions.updateChunk(e.id, 0, {
        status: 'succeeded',
        attempts: 1,
      });
      await stores.executions.updateChunk(e.id, 2, {
        status: 'failed',
        attempts: 3,
        error: 'boom',
      });
      const progress = await stores.executions.getExecution(e.id);
      expect(progress).toMatchObject({
        status: 'running',
        chunksTotal: 3,
        rowsTotal: 250,
        chunksDone: 1,
        chunksFailed: 1,
        rowsDone: 100,
        rowsFailed: 50,
        input: { type: 'path', path: 'in.csv' },
      });
      expect(
        (await stores.executions.listChunks(e.id, { status: ['pending'] })).map(
          c => c.seq,
        ),
      ).toEqual([1]);
      expect(
        await stores.executions.listExecutions({
          modelRef: 'component:default/a',
        }),
      ).toHaveLength(1);
      await expect(
        stores.executions.updateChunk(e.id, 9, { status: 'failed' }),
      ).rejects.toThrow(/No chunk 9/);
    });
  },
);
