// @ts-check

/**
 * Searchable logs of each model: build, deployment and execution lines,
 * written in batches by the log index and deleted after
 * `mlPlatform.logs.retention`.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('model_logs', table => {
    table.comment('Build, deployment and execution log lines per model');
    table.bigIncrements('id').primary();
    table.string('model_ref', 255).notNullable();
    table
      .string('source', 16)
      .notNullable()
      .comment('build, deployment or execution');
    table
      .string('subject_id', 64)
      .notNullable()
      .comment('The build, deployment or execution');
    table
      .integer('version')
      .notNullable()
      .comment('The build version, 0 if unknown');
    table.bigInteger('time').notNullable().comment('epoch ms');
    table
      .string('level', 8)
      .notNullable()
      .comment('debug, info, warn or error');
    table.string('stream', 16).nullable().comment('step, replica or worker');
    table.text('line').notNullable();
    table.index(['model_ref', 'source', 'id']);
    table.index(['time']);
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('model_logs');
};
