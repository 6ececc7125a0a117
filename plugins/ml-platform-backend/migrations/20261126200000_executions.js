// @ts-check

/**
 * Batch executions: who runs them (claims and heartbeats, so another backend
 * resumes an execution whose backend died), how they were triggered, where
 * the result went; when a scheduled batch deployment last ran.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('executions', table => {
    table.string('trigger').notNullable().defaultTo('api');
    table.string('claimed_by').nullable();
    table.timestamp('heartbeat_at', { useTz: true }).nullable();
    table.timestamp('cancel_requested_at', { useTz: true }).nullable();
    table.text('result_uri').nullable();
  });
  await knex.schema.alterTable('deployments', table => {
    table
      .timestamp('last_scheduled_at', { useTz: true })
      .nullable()
      .comment('When the batch schedule last started an execution');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('deployments', table => {
    table.dropColumn('last_scheduled_at');
  });
  await knex.schema.alterTable('executions', table => {
    table.dropColumn('result_uri');
    table.dropColumn('cancel_requested_at');
    table.dropColumn('heartbeat_at');
    table.dropColumn('claimed_by');
    table.dropColumn('trigger');
  });
};
