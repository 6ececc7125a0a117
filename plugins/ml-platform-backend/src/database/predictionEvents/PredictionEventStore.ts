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
