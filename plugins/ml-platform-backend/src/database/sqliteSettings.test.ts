import knexFactory, { Knex } from 'knex';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyDatabaseMigrations } from './migrations';

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
    expect(fs.existsSync(path.join(dir, 'ml-platform.sqlite-wal'))).toBe(true);

    const first = await db.client.acquireConnection();
    await db.client.releaseConnection(first);
    await new Promise(r => setTimeout(r, 200));
    const second = await db.client.acquireConnection();
    await db.client.releaseConnection(second);
    expect(second).not.toBe(first);
    expect(await pragma(db, 'synchronous')).toBe(1);
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
