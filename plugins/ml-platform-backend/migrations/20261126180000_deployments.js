// @ts-check

/**
 * Scale to zero: when an idle online deployment stopped its replicas. Kept in
 * the database so a restart does not wake an idle model.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('deployments', table => {
    table
      .timestamp('scaled_to_zero_at', { useTz: true })
      .nullable()
      .comment('Set while an idle deployment runs no replicas');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('deployments', table => {
    table.dropColumn('scaled_to_zero_at');
  });
};
