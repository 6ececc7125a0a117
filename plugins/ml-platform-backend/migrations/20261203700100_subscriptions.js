// @ts-check

/**
 * Event subscriptions (real-time triggers) and their deliveries. A delivery
 * is an event a subscription received, keyed by (subscription, idempotency
 * key): the unique constraint makes a redelivered event, or the same event
 * seen by two backend instances, one row, predicted once. Rows wait as
 * `pending` (claimed by one instance at a time), end `predicted`, `filtered`
 * or `dead` (a dead letter with its reason, retried on request).
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('subscriptions', table => {
    table.comment('Online deployments subscribed to events-service topics');
    table.string('id', 64).primary();
    table.string('model_ref', 255).notNullable();
    table.string('deployment_id', 64).notNullable();
    table.string('topic', 255).notNullable();
    table.text('filter').nullable().comment('JSON condition(s)');
    table.text('mapping').notNullable().comment('JSON mapping');
    table.string('output_topic', 255).notNullable();
    table.string('idempotency_key', 255).nullable().comment('A payload path');
    table.boolean('enabled').notNullable().defaultTo(true);
    table.bigInteger('received').notNullable().defaultTo(0);
    table.bigInteger('filtered').notNullable().defaultTo(0);
    table.bigInteger('predicted').notNullable().defaultTo(0);
    table.bigInteger('failed').notNullable().defaultTo(0);
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
    table.index(['model_ref']);
    table.index(['topic']);
  });
  await knex.schema.createTable('subscription_deliveries', table => {
    table.comment(
      'Events received by subscriptions: inbox, keys, dead letters',
    );
    table.string('id', 64).primary();
    table
      .string('subscription_id', 64)
      .notNullable()
      .references('id')
      .inTable('subscriptions')
      .onDelete('CASCADE');
    table.string('event_key', 255).notNullable().comment('Idempotency key');
    table.string('topic', 255).notNullable();
    table.text('payload').notNullable().comment('JSON');
    table
      .string('status', 16)
      .notNullable()
      .comment('pending, predicted, filtered or dead');
    table.integer('attempts').notNullable().defaultTo(0);
    table.bigInteger('next_attempt_at').notNullable().comment('epoch ms');
    table.string('claimed_by', 64).nullable();
    table.bigInteger('claimed_until').nullable().comment('epoch ms');
    table.text('reason').nullable();
    table.bigInteger('received_at').notNullable().comment('epoch ms');
    table.bigInteger('finished_at').nullable().comment('epoch ms');
    table.unique(['subscription_id', 'event_key']);
    table.index(['status', 'next_attempt_at']);
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('subscription_deliveries');
  await knex.schema.dropTable('subscriptions');
};
