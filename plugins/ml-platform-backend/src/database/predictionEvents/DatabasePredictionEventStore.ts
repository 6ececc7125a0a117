import { PredictionEvent } from '@internal/plugin-ml-platform-common';
import { Knex } from 'knex';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { DbPredictionEventSegmentRow } from '../tables';
import { EventSegmentBuilder } from './EventSegmentBuilder';
import {
  EncodedEventSegment,
  PredictionEventQuery,
  PredictionEventStore,
} from './PredictionEventStore';

const TABLE = 'prediction_event_segments';
/** Events per segment: a write (500 by default) is one segment per model. */
const SEGMENT_SIZE = 1000;
/** Segment rows per INSERT: 5 columns stay far below SQLite's limit. */
const INSERT_CHUNK = 200;
/** Segments listed per query while reading; their events are read apart. */
const READ_PAGE = 20;
/** Segments per DELETE, so retention never holds a long lock. */
const DELETE_CHUNK = 500;

// In libuv's thread pool, off the event loop.
const deflate = promisify(zlib.deflate);
const inflate = promisify(zlib.inflate);

/**
 * A segment's events as stored: compressed at the fastest level. Events of
 * one model are alike (same fields, inputs and outputs): a segment of 500
 * shrinks about fiftyfold, and writing it costs a fiftieth of the pages.
 */
function compressEvents(json: Buffer): Promise<Buffer> {
  return deflate(json, { level: zlib.constants.Z_BEST_SPEED });
}

/** The JSON array of a stored segment, compressed or (older rows) not. */
async function eventsText(
  row: Pick<DbPredictionEventSegmentRow, 'events' | 'events_zlib'>,
): Promise<string> {
  return row.events_zlib
    ? (await inflate(row.events_zlib)).toString('utf8')
    : row.events;
}

/** Status filters: an exact code, a class (`4xx`) or `error` (>= 400). */
function statusRange(status: string): [number, number] {
  if (status === 'error') return [400, 1000];
  const cls = /^([1-5])xx$/.exec(status);
  if (cls) return [Number(cls[1]) * 100, Number(cls[1]) * 100 + 100];
  const code = Number(status);
  return [code, code + 1];
}

/** Whether an event (of the query's model) passes the query's filters. */
function matcher(
  q: PredictionEventQuery,
): (e: PredictionEvent, time: number) => boolean {
  const [low, high] =
    q.status === undefined ? [-Infinity, Infinity] : statusRange(q.status);
  const { from, to, version, caller, trigger, before } = q;
  return (e, time) =>
    (from === undefined || time >= from) &&
    (to === undefined || time < to) &&
    e.status >= low &&
    e.status < high &&
    (version === undefined || e.version === version) &&
    (caller === undefined || e.caller === caller) &&
    (trigger === undefined || e.trigger === trigger) &&
    (!before ||
      time < before.time ||
      (time === before.time && e.id < before.id));
}

/** A read event; `segment` is the id of the segment it was read from. */
interface Read {
  segment: number;
  time: number;
  event: PredictionEvent;
}

/** Newest first: (time, id) descending. */
function newestFirst(a: Read, b: Read): number {
  if (a.time !== b.time) return b.time - a.time;
  if (a.event.id === b.event.id) return 0;
  return a.event.id < b.event.id ? 1 : -1;
}

/**
 * Prediction events in the plugin's database as segments
 * (`prediction_event_segments`): each write is one row per model holding
 * its events as a compressed JSON array, so an event costs a share of one
 * INSERT and a few dozen bytes.
 */
export class DatabasePredictionEventStore implements PredictionEventStore {
  constructor(private readonly db: Knex) {}

  async insertEvents(events: PredictionEvent[]): Promise<void> {
    const segments = new EventSegmentBuilder(SEGMENT_SIZE);
    for (const event of events) segments.add(event);
    await this.insertSegments(segments.take());
  }

  async insertSegments(segments: EncodedEventSegment[]): Promise<void> {
    if (segments.length === 0) return;
    const rows = await Promise.all(
      segments.map(async s => ({
        model_ref: s.modelRef,
        min_time: s.minTime,
        max_time: s.maxTime,
        count: s.count,
        events: '',
        events_zlib: await compressEvents(s.json),
      })),
    );
    if (rows.length <= INSERT_CHUNK) {
      await this.db(TABLE).insert(rows);
      return;
    }
    await this.db.transaction(async tx => {
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        await tx(TABLE).insert(rows.slice(i, i + INSERT_CHUNK));
      }
    });
  }

  async listEvents(q: PredictionEventQuery): Promise<PredictionEvent[]> {
    if (q.limit <= 0) return [];
    const matches = matcher(q);
    // The first written event of each request id (lowest segment, then
    // earliest in it), whether or not it matches: a request id written
    // twice (a retried flush) keeps its first event, as a primary key
    // would. Both have the same time, so both are in segments covering it.
    const candidates = new Map<string, Read>();
    const others = new Map<string, Omit<Read, 'event'>>();
    const read = (segment: number, maxTime: number, events: string) => {
      // Events newer than this segment can have no copy in the rest.
      for (const [id, seen] of others) {
        if (seen.time > maxTime) others.delete(id);
      }
      for (const event of JSON.parse(events) as PredictionEvent[]) {
        const first = candidates.get(event.id) ?? others.get(event.id);
        if (first && first.segment <= segment) continue;
        const time = Date.parse(event.time);
        if (matches(event, time)) {
          candidates.set(event.id, { segment, time, event });
          others.delete(event.id);
        } else {
          candidates.delete(event.id);
          others.set(event.id, { segment, time });
        }
      }
    };

    let after: { maxTime: number; id: number } | undefined;
    for (;;) {
      const page = await this.segmentsPage(q, after);
      for (let i = 0; i < page.length; ) {
        // Segments come newest max_time first, but overlap (flushes of
        // other instances): only one wholly older than the limit-th
        // candidate ends the read.
        const threshold = kthTime(candidates, q.limit);
        if (threshold !== undefined && Number(page[i].max_time) < threshold) {
          return finish(candidates, q.limit);
        }
        // The events of as many segments as the missing candidates could
        // fill (at least one), not the whole page: they are the bulk.
        let wanted = q.limit - candidates.size;
        let end = i;
        do {
          wanted -= Number(page[end].count);
          end += 1;
        } while (end < page.length && wanted > 0);
        const ids = page.slice(i, end).map(s => s.id);
        const rows = await this.db<DbPredictionEventSegmentRow>(TABLE)
          .whereIn('id', ids)
          .select('id', 'events', 'events_zlib');
        const bodies = new Map(
          await Promise.all(
            rows.map(async r => [Number(r.id), await eventsText(r)] as const),
          ),
        );
        for (; i < end; i++) {
          const segment = Number(page[i].id);
          const events = bodies.get(segment);
          // Gone since the page was read (retention): so are its events.
          if (events !== undefined) {
            read(segment, Number(page[i].max_time), events);
          }
        }
      }
      if (page.length < READ_PAGE) return finish(candidates, q.limit);
      const last = page[page.length - 1];
      after = { maxTime: Number(last.max_time), id: Number(last.id) };
    }
  }

  /** The query's model's segments that can hold matches, newest first. */
  private segmentsPage(
    q: PredictionEventQuery,
    after: { maxTime: number; id: number } | undefined,
  ): Promise<Pick<DbPredictionEventSegmentRow, 'id' | 'max_time' | 'count'>[]> {
    const query = this.db<DbPredictionEventSegmentRow>(TABLE)
      .where('model_ref', q.modelRef)
      .orderBy([
        { column: 'max_time', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(READ_PAGE)
      .select('id', 'max_time', 'count');
    if (q.from !== undefined) query.where('max_time', '>=', q.from);
    if (q.to !== undefined) query.where('min_time', '<', q.to);
    if (q.before) query.where('min_time', '<=', q.before.time);
    if (after) {
      const { maxTime, id } = after;
      query
        .where('max_time', '<=', maxTime)
        .where(w =>
          w
            .where('max_time', '<', maxTime)
            .orWhere(same =>
              same.where('max_time', maxTime).where('id', '<', id),
            ),
        );
    }
    return query;
  }

  async deleteBefore(time: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const segments = await this.db<DbPredictionEventSegmentRow>(TABLE)
        .where('max_time', '<', time)
        .limit(DELETE_CHUNK)
        .select('id', 'count');
      if (segments.length === 0) return deleted;
      await this.db(TABLE)
        .whereIn(
          'id',
          segments.map(s => s.id),
        )
        .delete();
      for (const s of segments) deleted += Number(s.count);
    }
  }
}

/** The time of the limit-th newest candidate; undefined while fewer. */
function kthTime(
  candidates: Map<string, Read>,
  limit: number,
): number | undefined {
  if (candidates.size < limit) return undefined;
  const times = Float64Array.from(candidates.values(), c => c.time);
  times.sort();
  return times[times.length - limit];
}

/** The newest `limit` candidates, newest first. */
function finish(candidates: Map<string, Read>, limit: number) {
  return [...candidates.values()]
    .sort(newestFirst)
    .slice(0, limit)
    .map(c => c.event);
}
