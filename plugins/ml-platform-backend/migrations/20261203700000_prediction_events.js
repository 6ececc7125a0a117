// @ts-check

/**
 * Prediction events ("BI events"): one row per invocation (records, V2,
 * event-triggered) and per batch chunk, written in batches by the events
 * recorder and deleted after `mlPlatform.events.retention`. Payloads are
 * JSON text, sampled, redacted and size-capped before they get here.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('prediction_events', table => {
    table.comment('Prediction events, newest read first');
    table.string('id', 160).primary().comment('The request id');
    table
      .bigInteger('time')
      .notNullable()
      .comment('When the call ended, epoch milliseconds');
    table.string('model_ref', 255).notNullable();
    table.integer('version').notNullable();
    table.string('build_id', 64).notNullable();
    table.string('deployment_id', 64).nullable();
    table.string('execution_id', 64).nullable();
    table.string('caller', 255).nullable();
    table.string('caller_kind', 16).notNullable();
    table.string('trigger', 16).notNullable().comment('http, event or batch');
    table.string('route', 16).notNullable();
    table.double('latency_ms').notNullable();
    table.integer('status').notNullable();
    table.integer('rows').nullable();
    table.text('error').nullable();
    table.text('request').nullable().comment('JSON, redacted');
    table.text('response').nullable().comment('JSON');
    table.boolean('sampled').notNullable();
    table.boolean('truncated').notNullable().defaultTo(false);
    table.string('source_event_id', 255).nullable();
    table.string('subscription_id', 64).nullable();
    table.index(['model_ref', 'time', 'id']);
    table.index(['time']);
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('prediction_events');
};
