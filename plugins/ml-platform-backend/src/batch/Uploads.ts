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

/**
 * Input files uploaded through the API, kept per model until they expire
 * (`mlPlatform.batch.uploadRetention`); each model's uploads together stay
 * within its quota (`mlPlatform.batch.uploadQuotaBytes`).
 */
export class Uploads {
  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly quotaBytes = Infinity,
  ) {}

  /** Every complete upload, with its metadata. */
  private async list(): Promise<{ dir: string; meta?: UploadMeta }[]> {
    const names = await fs.promises.readdir(this.dir).catch(() => []);
    return Promise.all(
      names
        .filter(name => /^[0-9a-f-]{36}$/.test(name))
        .map(async name => {
          const dir = path.join(this.dir, name);
          try {
            const meta: UploadMeta = JSON.parse(
              await fs.promises.readFile(path.join(dir, 'meta.json'), 'utf8'),
            );
            return { dir, meta };
          } catch {
            return { dir };
          }
        }),
    );
  }

  /** Bytes the model's uploads take. */
  async usedBy(modelRef: string): Promise<number> {
    return (await this.list())
      .filter(u => u.meta?.modelRef === modelRef)
      .reduce((sum, u) => sum + (u.meta?.size ?? 0), 0);
  }

  /**
   * Deletes uploads created before `before`, except those in `keep` (inputs
   * of executions still running, of scheduled deployments), and leftovers of
   * uploads that never finished. Resolves with the ids deleted.
   */
  async deleteExpired(before: Date, keep: Set<string>): Promise<string[]> {
    const deleted: string[] = [];
    for (const { dir, meta } of await this.list()) {
      const id = path.basename(dir);
      if (keep.has(id)) continue;
      const created = meta
        ? Date.parse(meta.createdAt)
        : (await fs.promises.stat(dir).catch(() => undefined))?.mtimeMs;
      if (created === undefined || created >= before.getTime()) continue;
      await fs.promises.rm(dir, { recursive: true, force: true });
      deleted.push(id);
    }
    return deleted;
  }

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
    const used = await this.usedBy(modelRef);
    const left = this.quotaBytes - used;
    if (left <= 0) {
      throw new InputError(
        `body: ${modelRef}'s uploads take ${used} bytes, its whole quota (mlPlatform.batch.uploadQuotaBytes: ${this.quotaBytes}); they expire after mlPlatform.batch.uploadRetention`,
      );
    }
    const uploadId = randomUUID();
    const dir = path.join(this.dir, uploadId);
    await fs.promises.mkdir(dir, { recursive: true });
    const dataPath = path.join(dir, `data.${format}`);
    let size = 0;
    const limit = Math.min(this.maxBytes, left);
    const quotaBytes = this.quotaBytes;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > limit) {
          done(
            new InputError(
              limit < quotaBytes && limit === left
                ? `body: the upload would take ${modelRef}'s uploads over its quota (mlPlatform.batch.uploadQuotaBytes: ${quotaBytes}; ${used} bytes used)`
                : `The upload is larger than ${limit} bytes`,
            ),
          );
        } else done(null, chunk);
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

  /** The file of an upload of this model; errors name `field`. */
  async resolve(
    modelRef: string,
    uploadId: string,
    field = 'body.input.uploadId',
  ): Promise<{ path: string; format: DataFormat }> {
    if (!/^[0-9a-f-]{36}$/.test(uploadId)) {
      throw new InputError(`${field}: expected the id of an upload`);
    }
    const dir = path.join(this.dir, uploadId);
    let meta: UploadMeta;
    try {
      meta = JSON.parse(
        await fs.promises.readFile(path.join(dir, 'meta.json'), 'utf8'),
      );
    } catch {
      throw new NotFoundError(
        `${field}: no upload ${uploadId} (uploads expire after mlPlatform.batch.uploadRetention)`,
      );
    }
    if (meta.modelRef !== modelRef) {
      throw new NotFoundError(
        `${field}: no upload ${uploadId} for ${modelRef}`,
      );
    }
    return { path: path.join(dir, `data.${meta.format}`), format: meta.format };
  }
}
