import { InputError, NotFoundError } from '@backstage/errors';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArtifactStore, StoredArtifact } from './ArtifactStore';

const SCHEME = 'local:';

/** sha256 of a file, streamed. @public */
export async function sha256File(filePath: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(fs.createReadStream(filePath), hash);
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Artifacts as files under one directory: the embedded default, fine for one
 * backend host or a shared volume.
 *
 * @public
 */
export class LocalArtifactStore implements ArtifactStore {
  readonly type = 'local';

  constructor(private readonly rootDir: string) {}

  async put(
    key: string,
    filePath: string,
    options: { move?: boolean; digest?: string } = {},
  ): Promise<StoredArtifact> {
    const target = this.resolveKey(key);
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    const uri = `${SCHEME}${key}`;
    if (options.move) {
      // On the same filesystem a rename: atomic, and nothing is copied.
      try {
        await fs.promises.rename(filePath, target);
        const { size } = await fs.promises.stat(target);
        const digest = options.digest ?? (await sha256File(target));
        return { uri, digest, size };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      }
    }
    // Copy then rename, so a reader never sees a half-written artifact.
    const partial = `${target}.partial-${process.pid}-${Date.now()}`;
    await fs.promises.copyFile(filePath, partial);
    const digest = options.digest ?? (await sha256File(partial));
    await fs.promises.rename(partial, target);
    if (options.move) await fs.promises.rm(filePath, { force: true });
    const { size } = await fs.promises.stat(target);
    return { uri, digest, size };
  }

  async read(uri: string): Promise<Readable> {
    const file = this.resolveUri(uri);
    try {
      await fs.promises.access(file, fs.constants.R_OK);
    } catch {
      throw new NotFoundError(`Artifact ${uri} does not exist`);
    }
    return fs.createReadStream(file);
  }

  async download(
    uri: string,
    destPath: string,
    digest?: string,
  ): Promise<void> {
    await fs.promises.mkdir(path.dirname(destPath), { recursive: true });
    await pipeline(await this.read(uri), fs.createWriteStream(destPath));
    if (digest) {
      const actual = await sha256File(destPath);
      if (actual !== digest) {
        await fs.promises.rm(destPath, { force: true });
        throw new Error(
          `Artifact ${uri} is corrupt: expected ${digest}, got ${actual}`,
        );
      }
    }
  }

  async delete(uri: string): Promise<void> {
    await fs.promises.rm(this.resolveUri(uri), { force: true });
  }

  private resolveUri(uri: string): string {
    if (!uri.startsWith(SCHEME)) {
      throw new InputError(`Not a local artifact URI: ${uri}`);
    }
    return this.resolveKey(uri.slice(SCHEME.length));
  }

  private resolveKey(key: string): string {
    const root = path.resolve(this.rootDir);
    const target = path.resolve(root, key);
    if (!target.startsWith(root + path.sep)) {
      throw new InputError(
        `Artifact key ${key} escapes the artifact directory`,
      );
    }
    return target;
  }
}
