import { Knex } from 'knex';
import { randomBytes } from 'node:crypto';
import { DbSigningKeyRow } from '../tables';
import { SigningKeyStore } from './SigningKeyStore';

/** The `signing_keys` table. */
export class DatabaseSigningKeyStore implements SigningKeyStore {
  constructor(private readonly db: Knex) {}

  async getSigningKey(id: string): Promise<string> {
    // Whoever inserts first makes the key; every instance reads that one.
    await this.db<DbSigningKeyRow>('signing_keys')
      .insert({
        id,
        secret: randomBytes(32).toString('base64url'),
        created_at: new Date(),
      })
      .onConflict('id')
      .ignore();
    const row = await this.db<DbSigningKeyRow>('signing_keys')
      .where({ id })
      .first('secret');
    return row!.secret;
  }
}
