import { ConfigReader } from '@backstage/config';
import { sha256File } from '@internal/plugin-ml-platform-node';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { S3ArtifactStore } from './S3ArtifactStore';
import { FakeS3Server } from './__testUtils__/FakeS3Server';

describe('S3ArtifactStore', () => {
  let s3: FakeS3Server;
  let dir: string;
  let store: S3ArtifactStore;

  beforeAll(async () => {
    s3 = await FakeS3Server.start({ buckets: ['models'] });
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-s3-'));
    store = S3ArtifactStore.fromConfig(
      new ConfigReader({
        mlPlatform: {
          artifacts: {
            s3: {
              bucket: 'models',
              prefix: 'platform/',
              endpoint: s3.endpoint,
              accessKeyId: s3.accessKeyId,
              secretAccessKey: 'fake-secret',
            },
          },
        },
      }),
    );
  });

  afterAll(async () => {
    await s3.close();
    await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('stores a file under its key with its digest, and reads it back', async () => {
    const file = path.join(dir, 'model.tar.gz');
    await fs.promises.writeFile(file, 'model bytes');
    const stored = await store.put('builds/churn/v1.tar.gz', file);
    expect(stored).toEqual({
      uri: 's3://models/platform/builds/churn/v1.tar.gz',
      digest:
        'sha256:9cb7487000bc86ac36ce83c4acfabe8878552be99572a6770f65ab1d048a5c48',
      size: 11,
    });
    const object = s3.object('models', 'platform/builds/churn/v1.tar.gz')!;
    expect(object.body.toString()).toBe('model bytes');
    expect(object.metadata.sha256).toBe(stored.digest.slice('sha256:'.length));
    // The SDK streams files with aws-chunked bodies and a CRC32 trailer.
    expect(s3.requests.find(r => r.method === 'PUT')?.encoding).toMatch(
      /aws-chunked/,
    );
    expect(await text(await store.read(stored.uri))).toBe('model bytes');

    const copy = path.join(dir, 'copy', 'model.tar.gz');
    await store.download(stored.uri, copy, stored.digest);
    expect(await sha256File(copy)).toBe(stored.digest);
  });

  it('streams a larger file up and moves it when asked', async () => {
    const file = path.join(dir, 'big.bin');
    await fs.promises.writeFile(file, Buffer.alloc(3 * 1024 * 1024, 7));
    const digest = await sha256File(file);
    const stored = await store.put('executions/e/result.csv', file, {
      move: true,
      digest,
    });
    expect(stored.size).toBe(3 * 1024 * 1024);
    expect(fs.existsSync(file)).toBe(false);
    const back = path.join(dir, 'back.bin');
    await store.download(stored.uri, back, digest);
    expect((await fs.promises.stat(back)).size).toBe(3 * 1024 * 1024);
  });

  it('refuses a corrupt download, reports missing objects, deletes', async () => {
    const file = path.join(dir, 'x.txt');
    await fs.promises.writeFile(file, 'x');
    const stored = await store.put('a/x.txt', file);
    const dest = path.join(dir, 'x-copy.txt');
    await expect(
      store.download(stored.uri, dest, `sha256:${'0'.repeat(64)}`),
    ).rejects.toThrow(/is corrupt/);
    expect(fs.existsSync(dest)).toBe(false);

    await store.delete(stored.uri);
    await expect(store.read(stored.uri)).rejects.toThrow(
      'Artifact s3://models/platform/a/x.txt does not exist',
    );
  });

  it('refuses other buckets and keys that are not relative paths', async () => {
    await expect(store.read('s3://other/key')).rejects.toThrow(
      'Not an artifact of bucket models: s3://other/key',
    );
    await expect(store.read('local:builds/x')).rejects.toThrow(
      /Not an artifact of bucket/,
    );
    const file = path.join(dir, 'y.txt');
    await fs.promises.writeFile(file, 'y');
    await expect(store.put('../escape', file)).rejects.toThrow(
      /not a relative path/,
    );
  });

  it('fails with the server error for wrong credentials', async () => {
    const wrong = S3ArtifactStore.fromConfig(
      new ConfigReader({
        mlPlatform: {
          artifacts: {
            s3: {
              bucket: 'models',
              endpoint: s3.endpoint,
              accessKeyId: 'someone-else',
              secretAccessKey: 'x',
            },
          },
        },
      }),
    );
    const file = path.join(dir, 'z.txt');
    await fs.promises.writeFile(file, 'z');
    await expect(wrong.put('z.txt', file)).rejects.toThrow('Access Denied');
  });
});
