import { InputError } from '@backstage/errors';
import {
  AsyncBuffer,
  Compressors,
  FileMetaData,
  parquetMetadataAsync,
  parquetReadObjects,
  parquetSchema,
} from 'hyparquet';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import fs from 'node:fs/promises';
import zlib from 'node:zlib';
import { isParquetMagic } from './format';
import { SourceRow } from './types';
import { toPlainRecord, toText } from './values';

/*
 * Parquet through hyparquet (read) and hyparquet-writer (write): both are
 * pure JavaScript, read a file through random-access slices (footer first,
 * then one row group's column chunks at a time) and write one row group per
 * call, so memory is bounded by a row group. @dsnp/parquetjs as installed
 * here ships no build output (no dist/, and it declares node >= 24), so it
 * cannot even be loaded.
 */

// hyparquet only has SNAPPY built in; node's zlib covers the other common codecs
const zstdDecompressSync = (
  zlib as unknown as { zstdDecompressSync?: (b: Uint8Array) => Buffer }
).zstdDecompressSync;
const DECOMPRESSORS: Compressors = {
  GZIP: input => zlib.gunzipSync(input),
  BROTLI: input => zlib.brotliDecompressSync(input),
  ...(zstdDecompressSync ? { ZSTD: input => zstdDecompressSync(input) } : {}),
};

/** A Parquet file opened for reading: footer parsed, data not read yet. */
export interface ParquetInput {
  metadata: FileMetaData;
  file: AsyncBuffer;
  columns: string[];
  close(): Promise<void>;
}

async function readExactly(
  handle: fs.FileHandle,
  position: number,
  length: number,
): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(
      bytes,
      done,
      length - done,
      position + done,
    );
    if (bytesRead === 0) {
      throw new Error(`unexpected end of file at byte ${position + done}`);
    }
    done += bytesRead;
  }
  return bytes;
}

export async function openParquet(
  path: string,
  label: string,
): Promise<ParquetInput> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, 'r');
  } catch (error) {
    throw new InputError(
      `${label}: cannot open: ${
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'no such file'
          : (error as Error).message
      }`,
    );
  }
  try {
    const { size } = await handle.stat();
    // header magic + footer length + footer magic is the smallest valid file
    const magicOk =
      size >= 12 &&
      isParquetMagic(Buffer.from(await readExactly(handle, 0, 4))) &&
      isParquetMagic(Buffer.from(await readExactly(handle, size - 4, 4)));
    if (!magicOk) {
      throw new InputError(
        `${label} is not a Parquet file (it does not start and end with PAR1)`,
      );
    }
    const file: AsyncBuffer = {
      byteLength: size,
      async slice(start: number, end: number = size) {
        const bytes = await readExactly(handle, start, end - start);
        return bytes.buffer as ArrayBuffer;
      },
    };
    let metadata: FileMetaData;
    try {
      metadata = await parquetMetadataAsync(file);
    } catch (error) {
      throw new InputError(
        `${label}: unreadable Parquet footer: ${(error as Error).message}`,
      );
    }
    const columns = parquetSchema(metadata).children.map(
      child => child.element.name,
    );
    return { metadata, file, columns, close: () => handle.close() };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Rows of a Parquet file, decoded one row group at a time; values become JSON
 * primitives (bigint → number or string, dates → ISO strings).
 */
export async function* readParquetRows(
  path: string,
  label: string,
): AsyncGenerator<SourceRow> {
  const input = await openParquet(path, label);
  try {
    let groupStart = 0;
    let index = 0;
    for (const [group, rowGroup] of input.metadata.row_groups.entries()) {
      const groupRows = Number(rowGroup.num_rows);
      if (groupRows === 0) continue;
      let rows: Record<string, unknown>[];
      try {
        rows = await parquetReadObjects({
          file: input.file,
          metadata: input.metadata,
          rowStart: groupStart,
          rowEnd: groupStart + groupRows,
          compressors: DECOMPRESSORS,
        });
      } catch (error) {
        throw new InputError(
          `${label}: cannot decode row group ${group}: ${
            (error as Error).message
          }`,
        );
      }
      groupStart += groupRows;
      for (let i = 0; i < rows.length; i++) {
        const values = toPlainRecord(rows[i]);
        // drop the reference so the group can be collected while we yield
        rows[i] = undefined as unknown as Record<string, unknown>;
        yield { index, values };
        index += 1;
      }
    }
  } finally {
    await input.close();
  }
}

export type ParquetColumnType =
  | 'BOOLEAN'
  | 'INT64'
  | 'DOUBLE'
  | 'STRING'
  | 'JSON';

export interface ParquetColumnSpec {
  name: string;
  type: ParquetColumnType;
  /** Defaults to true. */
  nullable?: boolean;
}

type SchemaElements = ConstructorParameters<typeof ParquetWriter>[0]['schema'];

function schemaElements(columns: ParquetColumnSpec[]): SchemaElements {
  const schema: SchemaElements = [
    { name: 'root', num_children: columns.length },
  ];
  for (const { name, type, nullable = true } of columns) {
    const repetition_type = nullable ? 'OPTIONAL' : 'REQUIRED';
    if (type === 'STRING') {
      schema.push({
        name,
        type: 'BYTE_ARRAY',
        converted_type: 'UTF8',
        repetition_type,
      });
    } else if (type === 'JSON') {
      schema.push({
        name,
        type: 'BYTE_ARRAY',
        converted_type: 'JSON',
        repetition_type,
      });
    } else {
      schema.push({ name, type, repetition_type });
    }
  }
  return schema;
}

/** Buffers only one row group of encoded bytes, then appends it to the file. */
class FileByteWriter extends ByteWriter {
  constructor(private readonly handle: fs.FileHandle) {
    super(1 << 16);
  }

  async flush(): Promise<void> {
    if (this.index > 0) {
      await this.handle.write(new Uint8Array(this.buffer, 0, this.index));
      this.index = 0;
    }
  }

  async finish(): Promise<void> {
    await this.flush();
  }
}

function convertValue(value: unknown, column: ParquetColumnSpec): unknown {
  if (value === null || value === undefined) {
    if (column.nullable === false) {
      throw new Error(`Parquet column '${column.name}' cannot hold null`);
    }
    return null;
  }
  switch (column.type) {
    case 'INT64':
      return BigInt(value as number);
    case 'DOUBLE':
      return Number(value);
    case 'BOOLEAN':
      return Boolean(value);
    case 'STRING':
      return toText(value);
    default:
      return value;
  }
}

/**
 * Streams rows into a Parquet file: rows are buffered column-wise until a row
 * group is full, which is then encoded and appended, so memory holds one row
 * group whatever the file size.
 */
export class ParquetRowWriter {
  private readonly buffers: unknown[][];
  private rowsInGroup = 0;
  private rowsWritten = 0;

  private constructor(
    private readonly handle: fs.FileHandle,
    private readonly writer: ParquetWriter,
    private readonly columns: ParquetColumnSpec[],
    private readonly rowGroupSize: number,
  ) {
    this.buffers = columns.map(() => []);
  }

  static async create(
    path: string,
    columns: ParquetColumnSpec[],
    options: { rowGroupSize?: number } = {},
  ): Promise<ParquetRowWriter> {
    const rowGroupSize = options.rowGroupSize ?? 10_000;
    if (!Number.isSafeInteger(rowGroupSize) || rowGroupSize < 1) {
      throw new InputError(
        `rowGroupSize must be a positive integer, got ${rowGroupSize}`,
      );
    }
    const handle = await fs.open(path, 'w');
    const writer = new ParquetWriter({
      writer: new FileByteWriter(handle),
      schema: schemaElements(columns),
    });
    return new ParquetRowWriter(handle, writer, columns, rowGroupSize);
  }

  get rows(): number {
    return this.rowsWritten + this.rowsInGroup;
  }

  /** Appends one row, values in the order of the columns. */
  async write(values: unknown[]): Promise<void> {
    for (let i = 0; i < this.columns.length; i++) {
      this.buffers[i].push(convertValue(values[i], this.columns[i]));
    }
    this.rowsInGroup += 1;
    if (this.rowsInGroup >= this.rowGroupSize) {
      await this.flushGroup();
    }
  }

  private async flushGroup(): Promise<void> {
    if (this.rowsInGroup === 0) return;
    await this.writer.write({
      columnData: this.columns.map((column, i) => ({
        name: column.name,
        data: this.buffers[i],
      })),
      rowGroupSize: this.rowsInGroup,
    });
    this.rowsWritten += this.rowsInGroup;
    this.rowsInGroup = 0;
    for (const buffer of this.buffers) buffer.length = 0;
  }

  /** Writes the last row group and the footer, then closes the file. */
  async close(): Promise<void> {
    try {
      await this.flushGroup();
      await this.writer.finish();
    } finally {
      await this.handle.close();
    }
  }

  /** Closes the file without a footer (the caller deletes it). */
  async abort(): Promise<void> {
    await this.handle.close().catch(() => {});
  }
}
