// @ts-check

/**
 * The activity of each model: every change (and every refused or failed
 * attempt at one), who made it and how it ended, as the audit log has it.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('activity', table => {
    table.comment('Changes of models and attempts at them, newest last');
    table.bigIncrements('id').primary();
    table.string('model_ref').notNullable();
    table.string('action').notNullable().comment('e.g. deployment.scale');
    table
      .string('actor')
      .notNullable()
      .comment('user:..., service:... or ml-platform:<trigger>');
    table
      .string('outcome')
      .notNullable()
      .comment('succeeded, refused or failed');
    table.text('message').notNullable();
    table
      .string('subject_id')
      .nullable()
      .comment('The build, deployment or execution');
    table.string('request_id').nullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.index(['model_ref', 'created_at']);
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('activity');
};
