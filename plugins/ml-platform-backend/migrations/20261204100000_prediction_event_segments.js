// @ts-check

const {
  up: createPredictionEventsTable,
} = require('./20261203700000_prediction_events');

/** Events per segment made of existing rows. */
const MIGRATED_SEGMENT_SIZE = 500;

/**
 * Prediction events stored as segments: one row per flushed batch of a
 * model (a JSON array of events), not one row per event, so recording an
 * event costs next to nothing. Reads parse the segments whose time range can
 * hold matches; retention deletes whole segments.
 *
 * The rows of `prediction_events` move into segments of up to 500 events
 * per model; down expands them back into rows.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('prediction_event_segments', table => {
    table.comment('Prediction events, one row per flushed batch of a model');
    table.increments('id').primary();
    table.string('model_ref', 255).notNullable();
    table
      .bigInteger('min_time')
      .notNullable()
      .comment('The oldest event in it, epoch milliseconds');
    table
      .bigInteger('max_time')
      .notNullable()
      .comment('The newest event in it, epoch milliseconds');
    table.integer('count').notNullable().comment('How many events it holds');
    table
      .text('events')
      .notNullable()
      .comment('JSON array of PredictionEvent, payloads redacted');
    table.index(['model_ref', 'max_time']);
    table.index(['max_time']);
  });

  const models = await knex('prediction_events')
    .distinct('model_ref')
    .orderBy('model_ref');
  for (const { model_ref: modelRef } of models) {
    /** @type {{ time: number, id: string } | undefined} */
    let after;
    for (;;) {
      const query = knex('prediction_events')
        .where('model_ref', modelRef)
        .orderBy([
          { column: 'time', order: 'asc' },
          { column: 'id', order: 'asc' },
        ])
        .limit(MIGRATED_SEGMENT_SIZE);
      if (after) {
        const { time, id } = after;
        query.where(w =>
          w
            .where('time', '>', time)
            .orWhere(same => same.where('time', time).where('id', '>', id)),
        );
      }
      const rows = await query;
      if (rows.length === 0) break;
      const events = rows.map(fromRow);
      const first = rows[0];
      const last = rows[rows.length - 1];
      await knex('prediction_event_segments').insert({
        model_ref: modelRef,
        min_time: Number(first.time),
        max_time: Number(last.time),
        count: events.length,
        events: JSON.stringify(events),
      });
      after = { time: Number(last.time), id: last.id };
    }
  }

  await knex.schema.dropTable('prediction_events');
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  // The table exactly as its own migration created it.
  await createPredictionEventsTable(knex);

  // Oldest segment first: a request id written twice keeps its first event.
  let afterId = 0;
  for (;;) {
    const segments = await knex('prediction_event_segments')
      .where('id', '>', afterId)
      .orderBy('id', 'asc')
      .limit(10)
      .select('id', 'events');
    if (segments.length === 0) break;
    for (const segment of segments) {
      /** @type {any[]} */
      const events = JSON.parse(segment.events);
      const rows = events.map(toRow);
      for (let i = 0; i < rows.length; i += 200) {
        await knex('prediction_events')
          .insert(rows.slice(i, i + 200))
          .onConflict('id')
          .ignore();
      }
    }
    afterId = segments[segments.length - 1].id;
  }

  await knex.schema.dropTable('prediction_event_segments');
};

/**
 * An event as the store read it from a row of `prediction_events`.
 *
 * @param {any} r
 */
function fromRow(r) {
  /** @type {Record<string, unknown>} */
  const event = {
    id: r.id,
    time: new Date(Number(r.time)).toISOString(),
    modelRef: r.model_ref,
    version: r.version,
    buildId: r.build_id,
    callerKind: r.caller_kind,
    trigger: r.trigger,
    route: r.route,
    latencyMs: Number(r.latency_ms),
    status: r.status,
    sampled: Boolean(r.sampled),
  };
  if (r.deployment_id) event.deploymentId = r.deployment_id;
  if (r.execution_id) event.executionId = r.execution_id;
  if (r.caller) event.caller = r.caller;
  if (r.rows !== null) event.rows = r.rows;
  if (r.error) event.error = r.error;
  if (r.request !== null) event.request = JSON.parse(r.request);
  if (r.response !== null) event.response = JSON.parse(r.response);
  if (r.truncated) event.truncated = true;
  if (r.source_event_id) event.sourceEventId = r.source_event_id;
  if (r.subscription_id) event.subscriptionId = r.subscription_id;
  return event;
}

/**
 * A row of `prediction_events` as the store wrote it.
 *
 * @param {any} e
 */
function toRow(e) {
  return {
    id: e.id,
    time: Date.parse(e.time),
    model_ref: e.modelRef,
    version: e.version,
    build_id: e.buildId,
    deployment_id: e.deploymentId ?? null,
    execution_id: e.executionId ?? null,
    caller: e.caller ?? null,
    caller_kind: e.callerKind,
    trigger: e.trigger,
    route: e.route,
    latency_ms: e.latencyMs,
    status: e.status,
    rows: e.rows ?? null,
    error: e.error ?? null,
    request: e.request === undefined ? null : JSON.stringify(e.request),
    response: e.response === undefined ? null : JSON.stringify(e.response),
    sampled: e.sampled,
    truncated: e.truncated ?? false,
    source_event_id: e.sourceEventId ?? null,
    subscription_id: e.subscriptionId ?? null,
  };
}
