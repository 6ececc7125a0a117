// @ts-check

/**
 * Build queue bookkeeping: cancellation requests reach whichever backend
 * instance runs the build, and the branch a model's automatic builds follow.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('builds', table => {
    table
      .timestamp('cancel_requested_at', { useTz: true })
      .nullable()
      .comment('Set by a cancel request; the runner stops the build');
    table.index(['model_ref', 'commit_sha']);
  });
  await knex.schema.alterTable('models', table => {
    table
      .string('manifest_path')
      .nullable()
      .comment('mlmodel.yaml path inside the model directory');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('models', table => {
    table.dropColumn('manifest_path');
  });
  await knex.schema.alterTable('builds', table => {
    table.dropIndex(['model_ref', 'commit_sha']);
    table.dropColumn('cancel_requested_at');
  });
};
