// @ts-check

const zlib = require('node:zlib');

/** Segments rewritten per query while going down. */
const DOWN_PAGE = 10;

/**
 * Prediction event segments are stored compressed: `events_zlib` holds the
 * JSON array zlib-compressed (RFC 1950), and `events` is then ''. Events of
 * one model are alike, so a segment shrinks about fiftyfold, and the
 * database writes (and, on a SQLite file, checkpoints) that much less per
 * event. Segments written before stay as they are: the store reads both.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('prediction_event_segments', table => {
    table
      .binary('events_zlib')
      .nullable()
      .comment("The JSON array of events, zlib-compressed; events is then ''");
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  // Compressed segments back to their JSON text, then the column goes.
  for (;;) {
    const segments = await knex('prediction_event_segments')
      .whereNotNull('events_zlib')
      .orderBy('id', 'asc')
      .limit(DOWN_PAGE)
      .select('id', 'events_zlib');
    if (segments.length === 0) break;
    for (const { id, events_zlib: compressed } of segments) {
      await knex('prediction_event_segments')
        .where({ id })
        .update({
          events: zlib.inflateSync(compressed).toString('utf8'),
          events_zlib: null,
        });
    }
  }
  await knex.schema.alterTable('prediction_event_segments', table => {
    table.dropColumn('events_zlib');
  });
};
