import { mockServices } from '@backstage/backend-test-utils';
import { LogStore, NewLogLine } from '../database/modelLogs/LogStore';
import { LogIndex } from './LogIndex';
import { LokiPusher } from './LokiPusher';
import { fakeLoki } from '../__testUtils__/fakeLoki';

class MemoryLogStore implements LogStore {
  writes = 0;
  lines: NewLogLine[] = [];
  async appendLines(lines: NewLogLine[]) {
    this.writes++;
    this.lines.push(...lines);
  }
  async searchLines() {
    return [];
  }
  async deleteBefore() {
    return 0;
  }
}

const T0 = Date.UTC(2026, 11, 3, 10, 0, 0);

describe('LogIndex', () => {
  it('writes lines in batches with their model, version and level, and ships them to Loki', async () => {
    const loki = await fakeLoki();
    try {
      const store = new MemoryLogStore();
      const logger = mockServices.logger.mock();
      const index = new LogIndex({
        store,
        logger,
        flushIntervalMs: 60_000,
        maxBuffered: 1000,
        loki: new LokiPusher(
          { url: `${loki.url}/`, tenant: 'team-a', token: 's3cret' },
          logger,
        ),
        resolve: async (source, id) =>
          id === 'gone'
            ? undefined
            : {
                modelRef: 'component:default/churn',
                version: source === 'build' ? 2 : 1,
              },
      });
      index.add('build', 'b2', 'Successfully installed numpy', {
        time: T0,
        stream: 'install',
      });
      index.add('deployment', 'd1', 'ERROR: model failed to load', {
        time: T0 + 5,
      });
      index.add('deployment', 'd1', 'WARNING: slow', { time: T0 + 2 });
      index.add('execution', 'gone', 'a line of a deleted execution');
      await index.stop();

      expect(store.writes).toBe(1);
      expect(store.lines).toEqual([
        expect.objectContaining({
          source: 'build',
          version: 2,
          level: 'info',
          stream: 'install',
        }),
        expect.objectContaining({
          source: 'deployment',
          version: 1,
          level: 'error',
        }),
        expect.objectContaining({
          source: 'deployment',
          version: 1,
          level: 'warn',
        }),
      ]);
      expect(loki.pushes).toHaveLength(1);
      const [push] = loki.pushes;
      expect(push.headers['x-scope-orgid']).toBe('team-a');
      expect(push.headers.authorization).toBe('Bearer s3cret');
      expect(push.body.streams).toEqual(
        expect.arrayContaining([
          {
            stream: {
              model: 'churn',
              namespace: 'default',
              version: '2',
              source: 'build',
              level: 'info',
            },
            values: [
              [`${BigInt(T0) * 1_000_000n}`, 'Successfully installed numpy'],
            ],
          },
          {
            stream: {
              model: 'churn',
              namespace: 'default',
              version: '1',
              source: 'deployment',
              level: 'error',
            },
            values: [
              [`${BigInt(T0 + 5) * 1_000_000n}`, 'ERROR: model failed to load'],
            ],
          },
        ]),
      );
      expect(push.body.streams).toHaveLength(3);
    } finally {
      await loki.close();
    }
  });

  it('keeps lines when Loki refuses them, and says why', async () => {
    const store = new MemoryLogStore();
    const logger = mockServices.logger.mock();
    const index = new LogIndex({
      store,
      logger,
      flushIntervalMs: 60_000,
      maxBuffered: 2,
      loki: new LokiPusher({ url: 'http://127.0.0.1:9/nothing' }, logger),
      resolve: async () => ({
        modelRef: 'component:default/churn',
        version: 1,
      }),
    });
    index.add('build', 'b1', 'one');
    index.add('build', 'b1', 'two');
    index.add('build', 'b1', 'three: over the buffer');
    await index.flush();
    expect(store.lines.map(l => l.line)).toEqual(['one', 'two']);
    expect(logger.warn).toHaveBeenCalledWith(
      'model log lines dropped: the buffer was full',
      { dropped: 1 },
    );
    expect(logger.warn).toHaveBeenCalledWith(
      'log lines not pushed to Loki',
      expect.objectContaining({ lines: 2 }),
    );
  });
});
