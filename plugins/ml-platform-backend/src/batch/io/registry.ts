import { UrlReaderService } from '@backstage/backend-plugin-api';
import {
  ExecutionInput,
  ExecutionOutput,
} from '@internal/plugin-ml-platform-common';
import path from 'node:path';
import { BatchConnections } from '../BatchConnections';
import { ExecutionInputs } from '../ExecutionInputs';
import { Uploads } from '../Uploads';
import { JsonlConcatSink } from './concatSink';
import { FileResultSink } from './fileSink';
import { fileSource, streamSource } from './sources';
import { SqlTableSink } from './sqlSink';
import { sqlSource } from './sqlSource';
import { ResultSink, RowSource } from './types';

/**
 * An input that cannot be read as asked (a path outside the allowed roots,
 * a URL host refused): the execution fails with this message.
 */
export class InputRefusedError extends Error {}

/** What opening a source may use. */
export interface SourceContext {
  /** The execution's model, whose uploads it may read. */
  modelRef: string;
  uploads: Uploads;
  inputs: ExecutionInputs;
  connections: BatchConnections;
  urlReader: UrlReaderService;
  /** Where a source may keep temporary files. */
  tmpDir: string;
  /** Whether the runtime's workers can open a local file themselves. */
  workersCanRead(file: string): Promise<boolean>;
}

/** What opening a sink may use. */
export interface SinkContext {
  connections: BatchConnections;
  /** The execution's work directory. */
  dir: string;
}

type InputOf<T extends ExecutionInput['type']> = Extract<
  ExecutionInput,
  { type: T }
>;
type OutputOf<T extends ExecutionOutput['type']> = Extract<
  ExecutionOutput,
  { type: T }
>;

export type SourceFactory<T extends ExecutionInput['type']> = (
  input: InputOf<T>,
  ctx: SourceContext,
) => Promise<RowSource>;

export type SinkFactory<T extends ExecutionOutput['type']> = (
  output: OutputOf<T>,
  ctx: SinkContext,
) => ResultSink;

/** Row sources by input type (`upload`, `path`, `url`, `sql`). */
export class SourceRegistry {
  private readonly factories = new Map<
    string,
    (input: ExecutionInput, ctx: SourceContext) => Promise<RowSource>
  >();

  register<T extends ExecutionInput['type']>(
    type: T,
    factory: SourceFactory<T>,
  ): this {
    this.factories.set(type, (input, ctx) => factory(input as InputOf<T>, ctx));
    return this;
  }

  async open(input: ExecutionInput, ctx: SourceContext): Promise<RowSource> {
    const factory = this.factories.get(input.type);
    if (!factory) {
      throw new InputRefusedError(`Unknown input type ${input.type}`);
    }
    return factory(input, ctx);
  }
}

/** Result sinks by output type (`file`, `table`). */
export class SinkRegistry {
  private readonly factories = new Map<
    string,
    (output: ExecutionOutput, ctx: SinkContext) => ResultSink
  >();

  register<T extends ExecutionOutput['type']>(
    type: T,
    factory: SinkFactory<T>,
  ): this {
    this.factories.set(type, (output, ctx) =>
      factory(output as OutputOf<T>, ctx),
    );
    return this;
  }

  open(output: ExecutionOutput, ctx: SinkContext): ResultSink {
    const factory = this.factories.get(output.type);
    if (!factory) throw new Error(`Unknown output type ${output.type}`);
    return factory(output, ctx);
  }
}

/** Checks run again when an input is read, refusing it with their message. */
async function refusedUnless<T>(check: Promise<T>): Promise<T> {
  return check.catch(error => {
    throw new InputRefusedError((error as Error).message);
  });
}

/** The platform's sources: uploads, local paths, URLs and SQL queries. */
export function defaultSources(): SourceRegistry {
  return new SourceRegistry()
    .register('upload', async (input, ctx) => {
      const upload = await ctx.uploads.resolve(
        ctx.modelRef,
        input.uploadId,
        'input.uploadId',
      );
      return fileSource(upload.path, {
        format: input.format ?? upload.format,
        workersCannotRead: !(await ctx.workersCanRead(upload.path)),
      });
    })
    .register('path', async (input, ctx) => {
      const file = await refusedUnless(
        ctx.inputs.resolvePath(input.path, 'input.path'),
      );
      return fileSource(file, {
        format: input.format,
        workersCannotRead: !(await ctx.workersCanRead(file)),
      });
    })
    .register('url', async (input, ctx) => {
      await refusedUnless(ctx.inputs.checkUrl(input.url, 'input.url'));
      return streamSource({
        name: input.url,
        format: input.format,
        tmpDir: ctx.tmpDir,
        open: async () => (await ctx.urlReader.readUrl(input.url)).stream!(),
      });
    })
    .register('sql', async (input, ctx) =>
      sqlSource({
        knex: ctx.connections.get(input.connection, 'input.connection'),
        query: input.query,
      }),
    );
}

/** The platform's sinks: a file in the artifact store, or a table. */
export function defaultSinks(): SinkRegistry {
  return new SinkRegistry()
    .register('table', (output, ctx) => {
      return new SqlTableSink({
        knex: ctx.connections.get(output.connection, 'output.connection'),
        table: output.table,
      });
    })
    .register('file', (output, ctx) => {
      const dest = path.join(ctx.dir, `result.${output.format}`);
      // JSON lines are written final by the workers and concatenated as
      // chunks end.
      if (output.format === 'jsonl') return new JsonlConcatSink(dest);
      return new FileResultSink({ dest, format: output.format });
    });
}
