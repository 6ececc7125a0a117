import knexFactory, { Knex } from 'knex';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyDatabaseMigrations } from './migrations';
import { useSqliteWriteAheadLog } from './sqliteSettings';
import { WalCheckpointer } from './WalCheckpointer';

jest.setTimeout(60_000);

const pragma = async (db: Knex, name: string) =>
  Object.values((await db.raw(`PRAGMA ${name}`))[0])[0];

describe('the embedded SQLite file', () => {
  let dir: string;
  const clients: Knex[] = [];
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-sqlite-'));
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map(c => c.destroy()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is migrated in write-ahead-log mode, each connection syncing only at checkpoints', async () => {
    const db = knexFactory({
      client: 'better-sqlite3',
      connection: { filename: path.join(dir, 'ml-platform.sqlite') },
      useNullAsDefault: true,
      // Idle connections go at once: the next query opens a new one.
      pool: { min: 0, max: 1, idleTimeoutMillis: 20, reapIntervalMillis: 10 },
    });
    clients.push(db);
    await applyDatabaseMigrations({ getClient: async () => db });
    expect(await pragma(db, 'journal_mode')).toBe('wal');
    expect(await pragma(db, 'synchronous')).toBe(1); // NORMAL
    expect(await pragma(db, 'wal_autocheckpoint')).toBe(10_000);
    expect(fs.existsSync(path.join(dir, 'ml-platform.sqlite-wal'))).toBe(true);

    const first = await db.client.acquireConnection();
    await db.client.releaseConnection(first);
    await new Promise(r => setTimeout(r, 200));
    const second = await db.client.acquireConnection();
    await db.client.releaseConnection(second);
    expect(second).not.toBe(first);
    expect(await pragma(db, 'synchronous')).toBe(1);
    expect(await pragma(db, 'wal_autocheckpoint')).toBe(10_000);
  });

  it('checkpoints the log from a worker thread, not from the connection that commits', async () => {
    const file = path.join(dir, 'ml-platform.sqlite');
    const db = knexFactory({
      client: 'better-sqlite3',
      connection: { filename: file },
      useNullAsDefault: true,
    });
    clients.push(db);
    const checkpointer = await useSqliteWriteAheadLog(db);
    expect(checkpointer?.running).toBe(true);
    await db.schema.createTable('t', t => t.text('v'));
    const before = fs.statSync(file).size;
    // About 250 pages in 250 commits: far from the connection's own
    // checkpoint at 10,000 pages, so only the worker can copy them into
    // the database file.
    for (let i = 0; i < 250; i++) {
      await db('t').insert({ v: 'x'.repeat(4000) });
    }
    const deadline = Date.now() + 10_000;
    while (fs.statSync(file).size < before + 250 * 4000) {
      if (Date.now() > deadline) throw new Error('no checkpoint in 10 s');
      await new Promise(r => setTimeout(r, 50));
    }

    // Stopped with the pool: its connection closes, the worker ends.
    await db.destroy();
    clients.splice(clients.indexOf(db), 1);
    await new Promise(r => setTimeout(r, 50));
    expect(checkpointer!.running).toBe(false);
  });

  it('hands checkpoints back when the worker cannot run', async () => {
    const failures: string[] = [];
    const checkpointer = new WalCheckpointer({
      filename: path.join(dir, 'missing.sqlite'),
      intervalMs: 10,
      onFailure: reason => failures.push(reason),
    });
    const deadline = Date.now() + 10_000;
    while (failures.length === 0 && Date.now() < deadline) {
      await new Promise(r => setTimeout(r, 20));
    }
    expect(failures).toEqual([
      expect.stringMatching(/unable to open database file/),
    ]);
    expect(checkpointer.running).toBe(false);
    await checkpointer.stop();
  });

  it('leaves an in-memory database as it is', async () => {
    const db = knexFactory({
      client: 'better-sqlite3',
      connection: { filename: ':memory:' },
      useNullAsDefault: true,
    });
    clients.push(db);
    await applyDatabaseMigrations({ getClient: async () => db });
    expect(await pragma(db, 'journal_mode')).toBe('memory');
    expect(await pragma(db, 'synchronous')).toBe(2); // FULL, the default
  });
});
