import { Config } from '@backstage/config';
import { InputError, NotFoundError } from '@backstage/errors';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  ArtifactStore,
  StoredArtifact,
  sha256File,
} from '@internal/plugin-ml-platform-node';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Artifacts as objects in an S3-compatible bucket (AWS S3, MinIO, Ceph...):
 * `s3://<bucket>/<prefix><key>`, the sha256 digest kept as object metadata.
 * The store for clusters: every backend instance and runtime shares it.
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly type = 's3';

  constructor(
    private readonly options: {
      client: S3Client;
      bucket: string;
      prefix?: string;
    },
  ) {}

  /** From `mlPlatform.artifacts.s3`. */
  static fromConfig(root: Config): S3ArtifactStore {
    const c = root.getConfig('mlPlatform.artifacts.s3');
    const endpoint = c.getOptionalString('endpoint');
    const accessKeyId = c.getOptionalString('accessKeyId');
    const secretAccessKey = c.getOptionalString('secretAccessKey');
    const client = new S3Client({
      region: c.getOptionalString('region') ?? 'us-east-1',
      endpoint,
      forcePathStyle: c.getOptionalBoolean('forcePathStyle') ?? !!endpoint,
      credentials:
        accessKeyId && secretAccessKey
          ? { accessKeyId, secretAccessKey }
          : undefined,
    });
    return new S3ArtifactStore({
      client,
      bucket: c.getString('bucket'),
      prefix: c.getOptionalString('prefix'),
    });
  }

  async put(
    key: string,
    filePath: string,
    options: { move?: boolean; digest?: string } = {},
  ): Promise<StoredArtifact> {
    const objectKey = this.objectKey(key);
    const digest = options.digest ?? (await sha256File(filePath));
    const { size } = await fs.promises.stat(filePath);
    await this.options.client.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: objectKey,
        Body: fs.createReadStream(filePath),
        ContentLength: size,
        ContentType: 'application/octet-stream',
        Metadata: { sha256: digest.replace(/^sha256:/, '') },
      }),
    );
    if (options.move) await fs.promises.rm(filePath, { force: true });
    return { uri: `s3://${this.options.bucket}/${objectKey}`, digest, size };
  }

  async read(uri: string): Promise<Readable> {
    try {
      const object = await this.options.client.send(
        new GetObjectCommand({
          Bucket: this.options.bucket,
          Key: this.keyOf(uri),
        }),
      );
      return object.Body as Readable;
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'NoSuchKey' || name === 'NotFound') {
        throw new NotFoundError(`Artifact ${uri} does not exist`);
      }
      throw error;
    }
  }

  async download(
    uri: string,
    destPath: string,
    digest?: string,
  ): Promise<void> {
    await fs.promises.mkdir(path.dirname(destPath), { recursive: true });
    const hash = createHash('sha256');
    await pipeline(
      await this.read(uri),
      new Transform({
        transform(chunk, _encoding, done) {
          hash.update(chunk);
          done(null, chunk);
        },
      }),
      fs.createWriteStream(destPath),
    );
    const actual = `sha256:${hash.digest('hex')}`;
    if (digest && actual !== digest) {
      await fs.promises.rm(destPath, { force: true });
      throw new Error(
        `Artifact ${uri} is corrupt: expected ${digest}, got ${actual}`,
      );
    }
  }

  async delete(uri: string): Promise<void> {
    await this.options.client.send(
      new DeleteObjectCommand({
        Bucket: this.options.bucket,
        Key: this.keyOf(uri),
      }),
    );
  }

  private objectKey(key: string): string {
    if (key.split('/').some(part => part === '..' || part === '')) {
      throw new InputError(`Artifact key ${key} is not a relative path`);
    }
    return `${this.options.prefix ?? ''}${key}`;
  }

  private keyOf(uri: string): string {
    const prefix = `s3://${this.options.bucket}/`;
    if (!uri.startsWith(prefix)) {
      throw new InputError(
        `Not an artifact of bucket ${this.options.bucket}: ${uri}`,
      );
    }
    return uri.slice(prefix.length);
  }
}
