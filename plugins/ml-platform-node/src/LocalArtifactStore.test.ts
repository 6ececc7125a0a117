import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { LocalArtifactStore, sha256File } from './LocalArtifactStore';

describe('LocalArtifactStore', () => {
  let dir: string;
  let store: LocalArtifactStore;
  let source: string;

  beforeEach(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-artifacts-'));
    store = new LocalArtifactStore(path.join(dir, 'store'));
    source = path.join(dir, 'model.tar.gz');
    await fs.promises.writeFile(source, 'model bytes');
  });
  afterEach(() => fs.promises.rm(dir, { recursive: true, force: true }));

  it('stores a file with its sha256 digest and reads it back', async () => {
    const stored = await store.put('builds/b1.tar.gz', source);
    expect(stored).toEqual({
      uri: 'local:builds/b1.tar.gz',
      // sha256 of "model bytes"
      digest:
        'sha256:9cb7487000bc86ac36ce83c4acfabe8878552be99572a6770f65ab1d048a5c48',
      size: 11,
    });
    expect(stored.digest).toBe(await sha256File(source));
    expect(await text(await store.read(stored.uri))).toBe('model bytes');
  });

  it('moves a file the caller no longer needs, trusting a given digest', async () => {
    const digest = await sha256File(source);
    const stored = await store.put('executions/e1/result.jsonl', source, {
      move: true,
      digest,
    });
    expect(stored).toEqual({
      uri: 'local:executions/e1/result.jsonl',
      digest,
      size: 11,
    });
    expect(fs.existsSync(source)).toBe(false);
    expect(await text(await store.read(stored.uri))).toBe('model bytes');
    // without a digest the store computes it
    await fs.promises.writeFile(source, 'model bytes');
    expect((await store.put('k2', source, { move: true })).digest).toBe(digest);
  });

  it('downloads with a digest check', async () => {
    const stored = await store.put('builds/b1.tar.gz', source);
    const dest = path.join(dir, 'out', 'copy.tgz');
    await store.download(stored.uri, dest, stored.digest);
    expect(await fs.promises.readFile(dest, 'utf8')).toBe('model bytes');

    await expect(
      store.download(stored.uri, dest, 'sha256:0000'),
    ).rejects.toThrow(/is corrupt: expected sha256:0000/);
    expect(fs.existsSync(dest)).toBe(false);
  });

  it('reports missing artifacts and deletes', async () => {
    const stored = await store.put('a/b.bin', source);
    await store.delete(stored.uri);
    await expect(store.read(stored.uri)).rejects.toThrow(
      'Artifact local:a/b.bin does not exist',
    );
  });

  it('refuses keys outside its directory and foreign URIs', async () => {
    await expect(store.put('../escape', source)).rejects.toThrow(/escapes/);
    await expect(store.read('s3://bucket/x')).rejects.toThrow(
      /Not a local artifact URI/,
    );
  });
});
