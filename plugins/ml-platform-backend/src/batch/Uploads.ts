import { InputError, NotFoundError } from '@backstage/errors';
import { DataFormat, UploadedInput } from '@internal/plugin-ml-platform-common';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { formatFromName } from './io';

interface UploadMeta extends UploadedInput {
  modelRef: string;
  createdAt: string;
}

/** Input files uploaded through the API, kept per model until executions use them. */
export class Uploads {
  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  /** Streams a request body to disk; never holds it in memory. */
  async save(
    modelRef: string,
    filename: string,
    body: Readable,
  ): Promise<UploadedInput> {
    const base = path.basename(filename);
    if (!base || base.startsWith('.')) {
      throw new InputError(
        'query.filename: expected a file name like scores.csv',
      );
    }
    const format = formatFromName(base) as DataFormat | undefined;
    if (!format) {
      throw new InputError(
        `query.filename: ${base} is not a .csv, .jsonl or .parquet file`,
      );
    }
    const uploadId = randomUUID();
    const dir = path.join(this.dir, uploadId);
    await fs.promises.mkdir(dir, { recursive: true });
    const dataPath = path.join(dir, `data.${format}`);
    let size = 0;
    const limit = this.maxBytes;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > limit)
          done(new InputError(`The upload is larger than ${limit} bytes`));
        else done(null, chunk);
      },
    });
    try {
      await pipeline(body, counter, fs.createWriteStream(dataPath));
    } catch (error) {
      await fs.promises.rm(dir, { recursive: true, force: true });
      throw error;
    }
    if (size === 0) {
      await fs.promises.rm(dir, { recursive: true, force: true });
      throw new InputError('The upload is empty');
    }
    const meta: UploadMeta = {
      uploadId,
      filename: base,
      size,
      format,
      modelRef,
      createdAt: new Date().toISOString(),
    };
    await fs.promises.writeFile(
      path.join(dir, 'meta.json'),
      JSON.stringify(meta),
    );
    const { modelRef: _m, createdAt: _c, ...uploaded } = meta;
    return uploaded;
  }

  /** The file of an upload of this model. */
  async resolve(
    modelRef: string,
    uploadId: string,
  ): Promise<{ path: string; format: DataFormat }> {
    if (!/^[0-9a-f-]{36}$/.test(uploadId)) {
      throw new InputError('body.input.uploadId: expected the id of an upload');
    }
    const dir = path.join(this.dir, uploadId);
    let meta: UploadMeta;
    try {
      meta = JSON.parse(
        await fs.promises.readFile(path.join(dir, 'meta.json'), 'utf8'),
      );
    } catch {
      throw new NotFoundError(`No upload ${uploadId}`);
    }
    if (meta.modelRef !== modelRef) {
      throw new NotFoundError(`No upload ${uploadId} for ${modelRef}`);
    }
    return { path: path.join(dir, `data.${meta.format}`), format: meta.format };
  }
}
