// @ts-check

/**
 * Alert rules set through the API (the manifest's own rules are read from
 * the latest succeeded build), the current state of every rule the
 * evaluator or an Alertmanager has seen, and the history of state changes.
 * Times are epoch milliseconds, as in the metrics tables.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('alert_rules', table => {
    table.comment('Alert rules set with PUT models/{ns}/{name}/alerts');
    table.string('model_ref', 255).notNullable();
    table.string('name', 100).notNullable();
    table
      .text('rule')
      .notNullable()
      .comment('JSON: metric, output, op, threshold, for, severity');
    table.integer('position').notNullable().comment('Order in the PUT body');
    table.string('updated_by', 255).nullable();
    table.bigInteger('updated_at').notNullable();
    table.primary(['model_ref', 'name']);
  });

  await knex.schema.createTable('alert_states', table => {
    table.comment('The current state of each rule of each model');
    table.string('model_ref', 255).notNullable();
    table.string('rule', 100).notNullable();
    table
      .string('state', 16)
      .notNullable()
      .comment('ok, pending, firing or resolved');
    table.bigInteger('since').nullable().comment('Last change of state');
    table.bigInteger('pending_since').nullable();
    table.double('value').nullable().comment('At the last evaluation');
    table.bigInteger('evaluated_at').nullable();
    table.bigInteger('silenced_until').nullable();
    table.string('silenced_by', 255).nullable();
    table.primary(['model_ref', 'rule']);
  });

  await knex.schema.createTable('alert_history', table => {
    table.comment('State changes of alert rules, newest last');
    table.bigIncrements('id').primary();
    table.string('model_ref', 255).notNullable();
    table.string('rule', 100).notNullable();
    table.string('state', 16).notNullable();
    table.double('value').nullable();
    table.double('threshold').nullable();
    table.bigInteger('at').notNullable();
    table
      .string('source', 16)
      .notNullable()
      .comment('evaluator or alertmanager');
    table.boolean('notified').notNullable().defaultTo(false);
    table.boolean('silenced').notNullable().defaultTo(false);
    table.index(['model_ref', 'at']);
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('alert_history');
  await knex.schema.dropTable('alert_states');
  await knex.schema.dropTable('alert_rules');
};
