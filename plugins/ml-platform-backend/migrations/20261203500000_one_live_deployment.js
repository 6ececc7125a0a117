/*
 * One live deployment of each type per model, enforced by the database: a
 * partial unique index over the deployments not deleted and live (pending,
 * deploying, ready, degraded). Two requests (or two backend instances)
 * deploying the same model at once cannot both win.
 *
 * Older duplicates, which the previous check-then-insert could let through
 * in a race, are marked deleted first (the newest stays).
 *
 * @param {import('knex').Knex} knex
 */
const LIVE = ['pending', 'deploying', 'ready', 'degraded'];

exports.up = async function up(knex) {
  const live = await knex('deployments')
    .whereNull('deleted_at')
    .whereIn('status', LIVE)
    .orderBy('created_at', 'desc')
    .select('id', 'model_ref', 'type');
  const seen = new Set();
  const older = [];
  for (const d of live) {
    const key = `${d.model_ref}\u0000${d.type}`;
    if (seen.has(key)) older.push(d.id);
    else seen.add(key);
  }
  if (older.length > 0) {
    await knex('deployments')
      .whereIn('id', older)
      .update({ deleted_at: new Date(), status: 'stopped', ready_replicas: 0 });
  }
  await knex.raw(
    `CREATE UNIQUE INDEX deployments_one_live_per_type ON deployments (model_ref, type) WHERE deleted_at IS NULL AND status IN (${LIVE.map(
      s => `'${s}'`,
    ).join(', ')})`,
  );
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.raw('DROP INDEX deployments_one_live_per_type');
};
