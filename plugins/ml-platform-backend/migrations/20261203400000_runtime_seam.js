// @ts-check

/**
 * Several backend instances on one database: which instance drives an
 * online deployment (a claim with a heartbeat), when it was last invoked on
 * any instance (scale to zero), the replicas its runtime reported with URLs
 * every instance's gateway can reach, and the labels the model's entity asks
 * its workloads to carry. Keys that sign the scoped artifact tokens, shared
 * by every instance.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('deployments', table => {
    table
      .string('owner')
      .nullable()
      .comment('Backend instance that drives the runtime for it');
    table.timestamp('owner_heartbeat_at', { useTz: true }).nullable();
    table
      .timestamp('last_request_at', { useTz: true })
      .nullable()
      .comment('Last invocation on any instance');
    table
      .text('replica_status')
      .nullable()
      .comment('JSON replicas as the runtime reported them');
    table
      .text('labels')
      .nullable()
      .comment("JSON labels from the entity's kubernetes-label-selector");
  });
  await knex.schema.createTable('signing_keys', table => {
    table.comment('Secrets that sign scoped tokens, shared by all instances');
    table.string('id').primary().notNullable();
    table.text('secret').notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('signing_keys');
  await knex.schema.alterTable('deployments', table => {
    table.dropColumn('labels');
    table.dropColumn('replica_status');
    table.dropColumn('last_request_at');
    table.dropColumn('owner_heartbeat_at');
    table.dropColumn('owner');
  });
};
