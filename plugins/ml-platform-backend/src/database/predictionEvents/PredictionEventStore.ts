import { PredictionEvent } from '@internal/plugin-ml-platform-common';

/** Which events of a model to read, newest first. */
export interface PredictionEventQuery {
  modelRef: string;
  /** Epoch milliseconds, inclusive. */
  from?: number;
  /** Epoch milliseconds, exclusive. */
  to?: number;
  /** An exact status, or a class: `2xx`, `4xx`, `5xx`; `error` is >= 400. */
  status?: string;
  version?: number;
  caller?: string;
  trigger?: string;
  limit: number;
  /** From a previous page: events older than this one. */
  before?: { time: number; id: string };
}

/**
 * An event's request and response as JSON text, exactly as received: a
 * string, or its UTF-8 bytes when they were checked to be JSON and never
 * decoded.
 */
export interface BodyText {
  request?: string | Buffer;
  response?: string | Buffer;
}

const BODY_TEXT = Symbol('bodyText');

/**
 * Keeps `text` beside `event` (a property JSON and subscribers do not
 * see): the JSON text its `request`/`response` were parsed from, unchanged
 * (not redacted), so the store writes it as it came instead of encoding
 * the parsed values again.
 */
export function withBodyText(
  event: PredictionEvent,
  text: BodyText,
): PredictionEvent {
  Object.defineProperty(event, BODY_TEXT, { value: text });
  return event;
}

/**
 * `event` as JSON, in pieces to write one after the other: text, and the
 * body bytes kept by {@link withBodyText}, which are written as they came.
 * A body with kept text is not read from the event (it may be parsed only
 * when read, see `defineLazyJson`).
 */
export function predictionEventParts(
  event: PredictionEvent,
): Array<string | Buffer> {
  const text = (event as { [BODY_TEXT]?: BodyText })[BODY_TEXT];
  if (!text) return [JSON.stringify(event)];
  const rest: Record<string, unknown> = {};
  for (const key of Object.keys(event) as Array<keyof PredictionEvent>) {
    if (key !== 'request' && key !== 'response') rest[key] = event[key];
  }
  // `rest` has its id and time at least: its JSON ends in a closing brace.
  const parts: Array<string | Buffer> = [JSON.stringify(rest).slice(0, -1)];
  for (const name of ['request', 'response'] as const) {
    const kept = text[name];
    if (kept !== undefined) {
      parts.push(`,"${name}":`, kept);
    } else if (event[name] !== undefined) {
      // No kept text: a plain value, never one parsed when read.
      parts.push(`,"${name}":${JSON.stringify(event[name])}`);
    }
  }
  parts.push('}');
  return parts;
}

/** `event` as JSON, with the body text kept by {@link withBodyText}. */
export function encodePredictionEvent(event: PredictionEvent): string {
  return predictionEventParts(event)
    .map(part => (typeof part === 'string' ? part : part.toString('utf8')))
    .join('');
}

/**
 * Events of one model already encoded (by `EventSegmentBuilder`): the UTF-8
 * text of a JSON array of events, with the earliest and latest event time
 * (epoch ms).
 */
export interface EncodedEventSegment {
  modelRef: string;
  minTime: number;
  maxTime: number;
  count: number;
  json: Buffer;
}

/** The prediction events (BI events) of every model. */
export interface PredictionEventStore {
  /**
   * Writes a batch of events in as few statements as the database allows.
   * A request id written twice keeps its first event.
   */
  insertEvents(events: PredictionEvent[]): Promise<void>;
  /** Writes encoded segments, one row each, as {@link insertEvents} does. */
  insertSegments(segments: EncodedEventSegment[]): Promise<void>;
  listEvents(query: PredictionEventQuery): Promise<PredictionEvent[]>;
  /**
   * Deletes events older than `time` (epoch ms); returns how many. Events
   * are stored in segments (the events of one write) and retention removes
   * whole segments: an event outlives `time` for as long as the newest
   * event of its segment is not older.
   */
  deleteBefore(time: number): Promise<number>;
}
