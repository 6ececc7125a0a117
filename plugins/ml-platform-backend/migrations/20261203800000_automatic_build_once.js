/*
 * A commit builds automatically (push or poll) at most once per model,
 * enforced by the database: `automatic_commit` holds the commit SHA of an
 * automatic build and is unique per model, so two backend instances handling
 * the same push (or a push racing the poller) cannot both queue a build.
 *
 * Older automatic builds get it set on the first build of each commit only;
 * duplicates a race could have left keep null (history is not rewritten).
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('builds', table => {
    table
      .string('automatic_commit', 64)
      .nullable()
      .comment('commit_sha of a push or poll build; unique per model');
  });
  const automatic = await knex('builds')
    .whereIn('trigger', ['push', 'poll'])
    .whereNotNull('commit_sha')
    .orderBy('created_at', 'asc')
    .select('id', 'model_ref', 'commit_sha');
  const seen = new Set();
  for (const b of automatic) {
    const key = `${b.model_ref}\u0000${b.commit_sha}`;
    if (seen.has(key)) continue;
    seen.add(key);
    await knex('builds')
      .where({ id: b.id })
      .update({ automatic_commit: b.commit_sha });
  }
  await knex.schema.alterTable('builds', table => {
    table.unique(['model_ref', 'automatic_commit'], {
      indexName: 'builds_automatic_once_per_commit',
    });
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('builds', table => {
    table.dropUnique(
      ['model_ref', 'automatic_commit'],
      'builds_automatic_once_per_commit',
    );
  });
  await knex.schema.alterTable('builds', table => {
    table.dropColumn('automatic_commit');
  });
};
