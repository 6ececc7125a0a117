import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import knexFactory, { Knex } from 'knex';

/**
 * Databases batch executions read from (SQL queries) and write to (tables),
 * named in `mlPlatform.batch.connections` so requests never carry
 * credentials. Connections open on first use and close at shutdown.
 */
export class BatchConnections {
  private readonly open = new Map<string, Knex>();

  constructor(private readonly config: Config | undefined) {}

  names(): string[] {
    return this.config?.keys() ?? [];
  }

  get(name: string, field: string): Knex {
    const existing = this.open.get(name);
    if (existing) return existing;
    const settings = this.config?.getOptionalConfig(name);
    if (!settings) {
      const known = this.names();
      throw new InputError(
        `${field}: no database connection named "${name}" in mlPlatform.batch.connections${
          known.length ? ` (known: ${known.join(', ')})` : ''
        }`,
      );
    }
    const client = settings.getString('client');
    const knex = knexFactory({
      client,
      connection: settings.get('connection') as Knex.StaticConnectionConfig,
      useNullAsDefault: client.includes('sqlite'),
      pool: client.includes('sqlite') ? { min: 1, max: 1 } : { min: 0, max: 4 },
    });
    this.open.set(name, knex);
    return knex;
  }

  async close() {
    await Promise.all([...this.open.values()].map(k => k.destroy()));
    this.open.clear();
  }
}
