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

/** The prediction events (BI events) of every model. */
export interface PredictionEventStore {
  /**
   * Writes a batch of events in as few statements as the database allows.
   * A request id written twice keeps its first event.
   */
  insertEvents(events: PredictionEvent[]): Promise<void>;
  listEvents(query: PredictionEventQuery): Promise<PredictionEvent[]>;
  /**
   * Deletes events older than `time` (epoch ms); returns how many. Events
   * are stored in segments (the events of one write) and retention removes
   * whole segments: an event outlives `time` for as long as the newest
   * event of its segment is not older.
   */
  deleteBefore(time: number): Promise<number>;
}
