import { Config } from '@backstage/config';
import { boundedWholeNumber, durationMs } from '../platformConfig';

/** `mlPlatform.events`, with defaults applied. */
export interface EventsConfig {
  /** Off: no prediction event is recorded, published or stored. */
  enabled: boolean;
  /** Share of events (0..1) whose inputs and outputs are kept. */
  sampleRate: number;
  /** A request or response larger than this is left out (`truncated`). */
  maxPayloadBytes: number;
  /** Input field names whose values are replaced by `[redacted]`, at any depth. */
  redactFields: string[];
  /** Publish the events on the events service topic `ml-platform.prediction`. */
  publish: boolean;
  /**
   * Events per published message: 1 publishes each event as its own
   * message; more publish `{ events: [...] }` (a publish is an HTTP call
   * to the events backend's bus when it is installed, so one per call
   * would cost the gateway a call of its own).
   */
  publishBatchSize: number;
  /** How often buffered events are written (and published). */
  flushIntervalMs: number;
  /** A buffer this full is written at once. */
  flushSize: number;
  /** Events buffered at most; more are dropped (and counted) until a flush. */
  maxBuffered: number;
  /** Stored events are deleted after this. */
  retentionMs: number;
}

const DAY_MS = 86_400_000;

/**
 * Most events written at once: they wait encoded in memory until then, so
 * an unbounded setting would let them grow without end while a write is slow.
 */
export const MAX_FLUSH_SIZE = 100_000;
/** Most events held between writes: the memory an operator may give them. */
export const MAX_BUFFERED = 1_000_000;
/** Largest request or response an event keeps (the gateway's own body cap is far lower by default). */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

export function readEventsConfig(config: Config): EventsConfig {
  const e = config.getOptionalConfig('mlPlatform.events');
  const sampleRate = e?.getOptionalNumber('sampleRate') ?? 1;
  if (!(sampleRate >= 0 && sampleRate <= 1)) {
    throw new Error(
      `mlPlatform.events.sampleRate must be between 0 and 1, got ${sampleRate}`,
    );
  }
  const flushSize = boundedWholeNumber(e, 'flushSize', 500, 1, MAX_FLUSH_SIZE);
  return {
    enabled: e?.getOptionalBoolean('enabled') ?? true,
    sampleRate,
    // 0 keeps no bodies: every event says `truncated`.
    maxPayloadBytes: boundedWholeNumber(
      e,
      'maxPayloadBytes',
      64 * 1024,
      0,
      MAX_PAYLOAD_BYTES,
    ),
    redactFields: e?.getOptionalStringArray('redactFields') ?? [],
    publish: e?.getOptionalBoolean('publish') ?? true,
    // A count of events per message, bounded as flushSize is.
    publishBatchSize: boundedWholeNumber(
      e,
      'publishBatchSize',
      100,
      1,
      MAX_FLUSH_SIZE,
    ),
    flushIntervalMs: durationMs(e, 'flushInterval', 1000),
    flushSize,
    // At least one write's worth: a smaller buffer would drop events
    // before it ever filled up to a write (0 would drop them all).
    maxBuffered: boundedWholeNumber(
      e,
      'maxBuffered',
      20_000,
      flushSize,
      MAX_BUFFERED,
    ),
    retentionMs: durationMs(e, 'retention', 30 * DAY_MS),
  };
}
