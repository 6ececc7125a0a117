import { LoggerService } from '@backstage/backend-plugin-api';
import {
  PREDICTION_EVENTS_TOPIC,
  PredictionEvent,
} from '@internal/plugin-ml-platform-common';
import { EventsService } from '@backstage/plugin-events-node';
import { randomUUID } from 'node:crypto';
import { ChunkAttempt } from '../batch/BatchRunner';
import { EventSegmentBuilder } from '../database/predictionEvents/EventSegmentBuilder';
import {
  PredictionEventStore,
  withBodyText,
} from '../database/predictionEvents/PredictionEventStore';
import { Invocation } from '../gateway/Gateway';
import { countRows } from '../monitoring/readPredictions';
import { FlushBuffer } from '../lib/FlushBuffer';
import { splitRows } from '../lib/splitRows';
import { EventsConfig } from './eventsConfig';
import { defineLazyJson, KeptPayload, keepPayload } from './payloads';

/** Answers have no fields to redact. */
const NOTHING = new Set<string>();

/**
 * Calls wait as objects at most this long (or, under load, for this many
 * calls, `publishBatchSize` when larger) before they become events:
 * objects older than a young-generation collection or two (tenths of a
 * second at thousands of calls a second) are copied and promoted.
 */
const STAGE_INTERVAL_MS = 100;
const STAGE_SIZE = 100;

/** A call or chunk as the hooks hand it over: turned into an event soon after. */
type Pending =
  | { kind: 'call'; at: number; id: string; call: Invocation; sampled: boolean }
  | { kind: 'chunk'; at: number; chunk: ChunkAttempt };

/**
 * Prediction events from the gateway's and batch runner's hooks. A hook only
 * appends to a buffer (the bodies are referenced, not copied or parsed).
 * Every tenth of a second, or each 100 calls, the buffer becomes events:
 * payloads parsed, redacted and capped, the build version looked up; they
 * are published on `ml-platform.prediction` (`{ events: [...] }` of up to
 * `publishBatchSize` events, or each event alone when that is 1) and
 * encoded into the model's segment, outside the JavaScript heap. Segments
 * are written every `flushInterval`, at `flushSize` events and at shutdown:
 * one row per model and write, never one write or publish per request.
 */
export class PredictionEventRecorder {
  private readonly buffer: FlushBuffer<Pending>;
  private readonly redact: Set<string>;
  private readonly segments: EventSegmentBuilder;
  private storing: Promise<void> = Promise.resolve();
  private storeTimer?: NodeJS.Timeout;

  constructor(
    private readonly options: {
      settings: EventsConfig;
      store: PredictionEventStore;
      /** Absent: events are stored only. */
      events?: EventsService;
      versionOf(buildId: string): Promise<number>;
      logger: LoggerService;
      /** For tests: the sampling draw, in [0, 1). */
      random?: () => number;
    },
  ) {
    this.redact = new Set(options.settings.redactFields);
    const { settings, logger } = options;
    this.segments = new EventSegmentBuilder(settings.flushSize);
    this.buffer = new FlushBuffer({
      flushIntervalMs: Math.min(settings.flushIntervalMs, STAGE_INTERVAL_MS),
      maxBuffered: settings.maxBuffered,
      flushSize: Math.min(
        settings.flushSize,
        Math.max(settings.publishBatchSize, STAGE_SIZE),
      ),
      write: taken => this.stage(taken),
      onDropped: dropped =>
        logger.warn('prediction events dropped: the buffer was full', {
          dropped,
          maxBuffered: settings.maxBuffered,
        }),
    });
  }

  /** The gateway's observer: every call through it. */
  recordCall(call: Invocation): void {
    const random = this.options.random ?? Math.random;
    this.buffer.push({
      kind: 'call',
      at: call.endedAt ?? Date.now(),
      id: randomUUID(),
      call,
      sampled: random() < this.options.settings.sampleRate,
    });
  }

  /** The batch runner's hook: one summary event per chunk attempt. */
  recordChunk(chunk: ChunkAttempt): void {
    this.buffer.push({ kind: 'chunk', at: Date.now(), chunk });
  }

  start() {
    this.buffer.start();
    this.storeTimer = setInterval(
      () => void this.store(),
      this.options.settings.flushIntervalMs,
    );
    this.storeTimer.unref?.();
  }

  /** Stops the timers and writes what is buffered. */
  async stop() {
    if (this.storeTimer) clearInterval(this.storeTimer);
    this.storeTimer = undefined;
    await this.buffer.stop();
    await this.store();
  }

  /** Publishes and writes everything recorded so far. */
  async flush(): Promise<void> {
    await this.buffer.flush();
    await this.store();
  }

  /** Calls to events: published, and added to the segments to write. */
  private async stage(taken: Pending[]): Promise<void> {
    const { logger, settings } = this.options;
    let batch: PredictionEvent[];
    try {
      const versions = await this.versionsOf(taken);
      batch = taken.flatMap(p => this.toEvents(p, versions));
      for (const event of batch) this.segments.add(event);
    } catch (error) {
      logger.error('prediction events not recorded', {
        events: taken.length,
        error: String(error),
      });
      return;
    }
    await this.publish(batch);
    // Awaited: while a write is slow, calls wait in the buffer, which is
    // bounded (`maxBuffered`), not in the segments.
    if (this.segments.size >= settings.flushSize) await this.store();
  }

  /** Writes the segments built so far; writes run one at a time. */
  private store(): Promise<void> {
    this.storing = this.storing.then(async () => {
      const segments = this.segments.take();
      if (segments.length === 0) return;
      try {
        await this.options.store.insertSegments(segments);
      } catch (error) {
        this.options.logger.error('prediction events not stored', {
          events: segments.reduce((n, s) => n + s.count, 0),
          error: String(error),
        });
      } finally {
        this.segments.release();
      }
    });
    return this.storing;
  }

  private async publish(batch: PredictionEvent[]): Promise<void> {
    const { logger, events, settings } = this.options;
    if (!events || !settings.publish) return;
    const size = settings.publishBatchSize;
    for (let i = 0; i < batch.length; i += size) {
      const chunk = batch.slice(i, i + size);
      try {
        await events.publish(
          size === 1
            ? {
                topic: PREDICTION_EVENTS_TOPIC,
                eventPayload: chunk[0],
                metadata: { 'x-event-id': chunk[0].id },
              }
            : {
                topic: PREDICTION_EVENTS_TOPIC,
                eventPayload: { events: chunk },
                metadata: {
                  'x-event-id': chunk[0].id,
                  'x-event-count': String(chunk.length),
                },
              },
        );
      } catch (error) {
        logger.warn('prediction events not published', {
          topic: PREDICTION_EVENTS_TOPIC,
          events: batch.length - i,
          error: String(error),
        });
        return; // the service is shutting down or unreachable
      }
    }
  }

  /** The build version of each build the events name, looked up once. */
  private async versionsOf(taken: Pending[]): Promise<Map<string, number>> {
    const ids = new Set(
      taken.map(p => (p.kind === 'chunk' ? p.chunk.buildId : p.call.buildId)),
    );
    const versions = new Map<string, number>();
    await Promise.all(
      [...ids].map(async id => {
        versions.set(id, await this.options.versionOf(id));
      }),
    );
    return versions;
  }

  /**
   * A call's events: one, or for a call that predicted several subscribed
   * events at once, one per source event with its share of the rows (the
   * call's latency and status). A batched call that failed, or whose answer
   * does not split, is one event naming no source event: the dispatcher
   * predicts its events again one by one, each with its own event.
   */
  private toEvents(
    p: Pending,
    versions: Map<string, number>,
  ): PredictionEvent[] {
    const batched = p.kind === 'call' ? p.call.source?.events : undefined;
    if (p.kind !== 'call' || !batched) return [this.toEvent(p, versions)];
    const { call } = p;
    const shares = splitByEvent(call, batched);
    if (!shares) {
      const event = this.toEvent(
        { ...p, call: { ...call, source: undefined } },
        versions,
      );
      event.subscriptionId = call.source!.subscriptionId;
      return [event];
    }
    return shares.map((share, i) =>
      this.toEvent(
        {
          ...p,
          id: i === 0 ? p.id : randomUUID(),
          call: { ...call, ...share },
        },
        versions,
      ),
    );
  }

  private toEvent(p: Pending, versions: Map<string, number>): PredictionEvent {
    const time = new Date(p.at).toISOString();
    if (p.kind === 'chunk') {
      const c = p.chunk;
      return {
        id: `${c.executionId}:${c.seq}:${c.attempt}`,
        time,
        modelRef: c.modelRef,
        version: versions.get(c.buildId)!,
        buildId: c.buildId,
        deploymentId: c.deploymentId,
        executionId: c.executionId,
        callerKind: 'batch',
        trigger: 'batch',
        route: 'batch',
        latencyMs: c.seconds * 1000,
        status: c.outcome === 'success' ? 200 : 500,
        rows: c.rows,
        error: c.error,
        sampled: false,
      };
    }
    const { call } = p;
    const { maxPayloadBytes } = this.options.settings;
    const event: PredictionEvent = {
      id: p.id,
      time,
      modelRef: call.modelRef,
      version: versions.get(call.buildId)!,
      buildId: call.buildId,
      deploymentId: call.deploymentId,
      caller: call.caller,
      callerKind: call.callerKind,
      trigger: call.route === 'event' ? 'event' : 'http',
      route: call.route,
      latencyMs: Math.round(call.latencyMs * 1000) / 1000,
      status: call.status,
      sampled: p.sampled,
    };
    if (call.response && call.status < 300) {
      const rows = countRows(call.protocol, call.response);
      if (rows !== undefined) event.rows = rows;
    }
    if (call.error) event.error = call.error;
    if (call.source) {
      event.sourceEventId = call.source.eventId;
      event.subscriptionId = call.source.subscriptionId;
    }
    if (p.sampled) {
      const request = keepPayload(
        call.request,
        maxPayloadBytes,
        this.redact,
        call.requestJson,
      );
      const response = keepPayload(
        call.response,
        maxPayloadBytes,
        NOTHING,
        call.responseJson,
      );
      // Any JSON value (the text of a body that is not JSON).
      keptValue(event, 'request', request);
      keptValue(event, 'response', response);
      if (request.truncated || response.truncated) event.truncated = true;
      if (request.json !== undefined || response.json !== undefined) {
        withBodyText(event, { request: request.json, response: response.json });
      }
    }
    return event;
  }
}

/**
 * Sets `event[name]` to what was kept of a body: its value, or for a body
 * kept as its JSON bytes, the value parsed when first read (by an event
 * subscriber; the store writes the bytes).
 */
function keptValue(
  event: PredictionEvent,
  name: 'request' | 'response',
  kept: KeptPayload,
) {
  if (kept.json instanceof Buffer) defineLazyJson(event, name, kept.json);
  else if (kept.value !== undefined) event[name] = kept.value;
}

/**
 * Each source event's share of a call that predicted several: its rows of
 * the request (`dataframe_records`, as the dispatcher sends them) and its
 * predictions, one per row; undefined when the call failed or its bodies do
 * not split that way.
 */
function splitByEvent(
  call: Invocation,
  events: ReadonlyArray<{ eventId: string; rows: number }>,
): Array<Partial<Invocation>> | undefined {
  if (call.status >= 300 || !call.response) return undefined;
  const records = (call.requestJson as { dataframe_records?: unknown })
    ?.dataframe_records;
  let answer: { predictions?: unknown } | null;
  try {
    answer = JSON.parse(call.response.toString('utf8'));
  } catch {
    return undefined;
  }
  const predictions = answer?.predictions;
  if (!Array.isArray(records) || !Array.isArray(predictions)) return undefined;
  const counts = events.map(e => e.rows);
  const ownRecords = splitRows(records, counts);
  const ownPredictions = splitRows(predictions, counts);
  if (!ownRecords || !ownPredictions) return undefined;
  return events.map((e, i) => {
    const requestJson = { dataframe_records: ownRecords[i] };
    const responseJson = { predictions: ownPredictions[i] };
    return {
      source: {
        subscriptionId: call.source!.subscriptionId,
        eventId: e.eventId,
      },
      request: Buffer.from(JSON.stringify(requestJson)),
      requestJson,
      response: Buffer.from(JSON.stringify(responseJson)),
      responseJson,
    };
  });
}
