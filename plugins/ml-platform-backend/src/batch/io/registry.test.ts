import { ExecutionOutput } from '@internal/plugin-ml-platform-common';
import { BatchConnections } from '../BatchConnections';
import {
  InputRefusedError,
  SinkRegistry,
  SourceRegistry,
  defaultSinks,
  defaultSources,
} from './registry';
import { ResultSink, RowSource } from './types';

const sinkContext = {
  connections: new BatchConnections(undefined),
  dir: '/tmp/x',
};

describe('source and sink registries', () => {
  it('open the platform sink of each output type', () => {
    const sinks = defaultSinks();
    const jsonl = sinks.open({ type: 'file', format: 'jsonl' }, sinkContext);
    const csv = sinks.open({ type: 'file', format: 'csv' }, sinkContext);
    expect(jsonl.description).toBe('jsonl file /tmp/x/result.jsonl');
    expect(jsonl.workersWriteFinalLines).toBe(true);
    expect(csv.workersWriteFinalLines).toBeFalsy();
    expect(() =>
      sinks.open(
        { type: 'table', connection: 'nope', table: 't' },
        sinkContext,
      ),
    ).toThrow(/nope/);
  });

  it('take more types, and refuse the ones nobody registered', async () => {
    const source = { description: 'rows' } as RowSource;
    const sink = { description: 'queue q' } as ResultSink;
    const sources = new SourceRegistry().register('sql', async input => ({
      ...source,
      description: input.query,
    }));
    const sinks = new SinkRegistry().register('table', output => ({
      ...sink,
      description: output.table,
    }));
    await expect(
      sources.open({ type: 'sql', connection: 'c', query: 'SELECT 1' }, {
        workersCanRead: async () => true,
      } as any),
    ).resolves.toMatchObject({ description: 'SELECT 1' });
    await expect(
      sources.open({ type: 'path', path: '/x' }, {} as any),
    ).rejects.toThrow(InputRefusedError);
    expect(
      sinks.open({ type: 'table', connection: 'c', table: 't1' }, sinkContext)
        .description,
    ).toBe('t1');
    expect(() =>
      sinks.open(
        { type: 'file', format: 'csv' } as ExecutionOutput,
        sinkContext,
      ),
    ).toThrow('Unknown output type file');
    expect(defaultSources()).toBeInstanceOf(SourceRegistry);
  });
});
