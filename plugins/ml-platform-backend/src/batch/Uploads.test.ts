import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Uploads } from './Uploads';

const csv = (bytes: number) =>
  Readable.from([Buffer.from(`a\n${'1\n'.repeat(bytes / 2 - 1)}`)]);

describe('Uploads', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-uploads-'));
  });
  afterEach(() => fs.promises.rm(dir, { recursive: true, force: true }));

  it("keeps each model's uploads within its quota", async () => {
    const uploads = new Uploads(dir, 10_000, 1000);
    await uploads.save('component:default/a', 'x.csv', csv(600));
    await expect(
      uploads.save('component:default/a', 'y.csv', csv(600)),
    ).rejects.toThrow(
      /would take component:default\/a's uploads over its quota/,
    );
    // Another model has its own quota; the failed upload left nothing.
    await uploads.save('component:default/b', 'x.csv', csv(600));
    expect(await uploads.usedBy('component:default/a')).toBe(600);
    await uploads.save('component:default/a', 'z.csv', csv(400));
    await expect(
      uploads.save('component:default/a', 'w.csv', csv(2)),
    ).rejects.toThrow(/take 1000 bytes, its whole quota/);
  });

  it('deletes uploads past the retention unless something still reads them', async () => {
    const uploads = new Uploads(dir, 10_000);
    const old = await uploads.save('component:default/a', 'x.csv', csv(10));
    const kept = await uploads.save('component:default/a', 'y.csv', csv(10));
    const fresh = await uploads.save('component:default/a', 'z.csv', csv(10));
    // The first two are eight days old.
    for (const u of [old, kept]) {
      const meta = path.join(dir, u.uploadId, 'meta.json');
      const m = JSON.parse(await fs.promises.readFile(meta, 'utf8'));
      m.createdAt = new Date(Date.now() - 8 * 86_400_000).toISOString();
      await fs.promises.writeFile(meta, JSON.stringify(m));
    }
    // An upload that never finished (no metadata), as old.
    const partial = path.join(dir, '11111111-1111-4111-8111-111111111111');
    await fs.promises.mkdir(partial);
    const eightDaysAgo = new Date(Date.now() - 8 * 86_400_000);
    await fs.promises.utimes(partial, eightDaysAgo, eightDaysAgo);

    const deleted = await uploads.deleteExpired(
      new Date(Date.now() - 7 * 86_400_000),
      new Set([kept.uploadId]),
    );
    expect(deleted.sort()).toEqual(
      [old.uploadId, path.basename(partial)].sort(),
    );
    await expect(
      uploads.resolve('component:default/a', old.uploadId),
    ).rejects.toThrow(/no upload/);
    await uploads.resolve('component:default/a', kept.uploadId);
    await uploads.resolve('component:default/a', fresh.uploadId);
  });
});
