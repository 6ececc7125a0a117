import { LoggerService } from '@backstage/backend-plugin-api';
import {
  PREDICTION_EVENTS_TOPIC,
  PredictionEvent,
} from '@internal/plugin-ml-platform-common';
import { EventParams, EventsService } from '@backstage/plugin-events-node';
import { randomUUID } from 'node:crypto';
import { ChunkAttempt } from '../batch/BatchRunner';
import { EventSegmentBuilder } from '../database/predictionEvents/EventSegmentBuilder';
import { PredictionEventStore } from '../database/predictionEvents/PredictionEventStore';
import { Invocation } from '../gateway/Gateway';
import { countRows } from '../monitoring/readPredictions';
import { ByteWriter } from '../lib/ByteWriter';
import { FlushBuffer } from '../lib/FlushBuffer';
import { splitRows } from '../lib/splitRows';
import { EventsConfig } from './eventsConfig';
import {
  JsonMembers,
  writeIsoTime,
  writeJsonNumber,
  writeJsonString,
} from './eventJson';
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

/** The event of a call, or of a share of one. */
interface CallEvent {
  id: string;
  at: number;
  call: Invocation;
  sampled: boolean;
  /** A batched call's event that names no source event names its subscription. */
  subscriptionId?: string;
}

/** An event encoded as JSON: bytes `start` to `end` of the stage's buffer. */
interface StagedEvent {
  modelRef: string;
  id: string;
  at: number;
  start: number;
  end: number;
}

const COMMA = 0x2c;
const CLOSE_CURLY = 0x7d;

/**
 * Prediction events from the gateway's and batch runner's hooks. A hook only
 * appends to a buffer (the bodies are referenced, not copied or parsed).
 * Every tenth of a second, or each 100 calls, the buffer becomes events:
 * payloads capped, checked to be JSON (redacted when fields are to be), the
 * build version looked up. Each event is encoded as JSON once, straight
 * from the call (no event object: a body is copied as the bytes it came
 * as), and those bytes are both added to the model's segment, outside the
 * JavaScript heap, and published on `ml-platform.prediction`: as
 * `{ events: [...] }` of up to `publishBatchSize` events, parsed when a
 * subscriber first reads `events`, or, when that is 1, each event alone,
 * parsed to be published. Segments are written every `flushInterval`, at
 * `flushSize` events and at shutdown: one row per model and write, never
 * one write or publish per request.
 */
export class PredictionEventRecorder {
  private readonly buffer: FlushBuffer<Pending>;
  private readonly redact: Set<string>;
  private readonly segments: EventSegmentBuilder;
  /** The events of the stage under way (stages run one at a time). */
  private readonly staged = new ByteWriter(64 * 1024);
  /** The members of events that repeat from call to call, encoded once. */
  private readonly members = new JsonMembers();
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
    let payloads: EventParams[];
    try {
      const versions = await this.versionsOf(taken);
      const staged = this.encode(taken, versions);
      for (const e of staged) {
        this.segments.addJson(
          e.modelRef,
          this.staged.buffer.subarray(e.start, e.end),
          e.at,
        );
      }
      payloads = this.payloads(staged);
    } catch (error) {
      logger.error('prediction events not recorded', {
        events: taken.length,
        error: String(error),
      });
      return;
    } finally {
      this.staged.reset();
    }
    await this.publish(payloads);
    // Awaited: while a write is slow, calls wait in the buffer, which is
    // bounded (`maxBuffered`), not in the segments.
    if (this.segments.size >= settings.flushSize) await this.store();
  }

  /** The events of `taken`, encoded one after the other into `staged`. */
  private encode(
    taken: Pending[],
    versions: Map<string, number>,
  ): StagedEvent[] {
    const out = this.staged;
    const staged: StagedEvent[] = [];
    // Events a comma apart: consecutive ones are a JSON array's elements.
    const next = () => {
      if (staged.length > 0) out.byte(COMMA);
      return out.length;
    };
    for (const p of taken) {
      if (p.kind === 'chunk') {
        const event = chunkEvent(p.at, p.chunk, versions);
        const start = next();
        out.write(JSON.stringify(event));
        staged.push({
          modelRef: event.modelRef,
          id: event.id,
          at: p.at,
          start,
          end: out.length,
        });
        continue;
      }
      for (const e of callEvents(p)) {
        const start = next();
        this.writeCallEvent(e, versions.get(e.call.buildId));
        staged.push({
          modelRef: e.call.modelRef,
          id: e.id,
          at: e.at,
          start,
          end: out.length,
        });
      }
    }
    return staged;
  }

  /**
   * What to publish: messages of up to `publishBatchSize` events, each
   * with its own copy of their JSON (`staged` is reused).
   */
  private payloads(staged: StagedEvent[]): EventParams[] {
    const { events, settings } = this.options;
    if (!events || !settings.publish) return [];
    const size = settings.publishBatchSize;
    const bytes = this.staged.buffer;
    const payloads: EventParams[] = [];
    for (let i = 0; i < staged.length; i += size) {
      const first = staged[i];
      const last = staged[Math.min(i + size, staged.length) - 1];
      if (size === 1) {
        payloads.push({
          topic: PREDICTION_EVENTS_TOPIC,
          eventPayload: JSON.parse(
            bytes.toString('utf8', first.start, first.end),
          ),
          metadata: { 'x-event-id': first.id },
        });
        continue;
      }
      // A string, not a buffer of its own: copying tens of kilobytes into a
      // new buffer per message cost the running backend more than the rest
      // of an event (fresh memory is slow to touch on a VM; bench/README.md,
      // "A published message as a string").
      const eventPayload = {};
      defineLazyJson(
        eventPayload,
        'events',
        `[${bytes.toString('utf8', first.start, last.end)}]`,
      );
      payloads.push({
        topic: PREDICTION_EVENTS_TOPIC,
        eventPayload,
        metadata: {
          'x-event-id': first.id,
          'x-event-count': String(Math.min(size, staged.length - i)),
        },
      });
    }
    return payloads;
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

  private async publish(payloads: EventParams[]): Promise<void> {
    const { logger, events } = this.options;
    for (let i = 0; i < payloads.length; i++) {
      try {
        await events!.publish(payloads[i]);
      } catch (error) {
        logger.warn('prediction events not published', {
          topic: PREDICTION_EVENTS_TOPIC,
          messages: payloads.length - i,
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
   * A call's event as JSON, written to `staged`, with the fields an event
   * object would have, in the same order (`PredictionEvent`): bodies are
   * copied as the bytes they came as when they are JSON and have nothing
   * to redact, so nothing is parsed and no object is built per event.
   */
  private writeCallEvent(e: CallEvent, version: number | undefined) {
    const { call } = e;
    const out = this.staged;
    const members = this.members;
    out.write('{"id":');
    writeJsonString(out, e.id);
    out.write(',"time":');
    writeIsoTime(out, e.at);
    members.write(out, 'modelRef', call.modelRef);
    if (version !== undefined) {
      out.write(',"version":');
      writeJsonNumber(out, version);
    }
    members.write(out, 'buildId', call.buildId);
    if (call.deploymentId !== undefined) {
      members.write(out, 'deploymentId', call.deploymentId);
    }
    if (call.caller !== undefined) members.write(out, 'caller', call.caller);
    members.write(out, 'callerKind', call.callerKind);
    out.write(
      call.route === 'event' ? ',"trigger":"event"' : ',"trigger":"http"',
    );
    members.write(out, 'route', call.route);
    out.write(',"latencyMs":');
    writeJsonNumber(out, Math.round(call.latencyMs * 1000) / 1000);
    out.write(',"status":');
    writeJsonNumber(out, call.status);
    out.write(e.sampled ? ',"sampled":true' : ',"sampled":false');
    if (call.response && call.status < 300) {
      const rows = countRows(call.protocol, call.response);
      if (rows !== undefined) {
        out.write(',"rows":');
        writeJsonNumber(out, rows);
      }
    }
    if (call.error) out.write(`,"error":${JSON.stringify(call.error)}`);
    if (call.source) {
      out.write(`,"sourceEventId":${JSON.stringify(call.source.eventId)}`);
    }
    const subscriptionId = call.source?.subscriptionId ?? e.subscriptionId;
    if (subscriptionId !== undefined) {
      out.write(`,"subscriptionId":${JSON.stringify(subscriptionId)}`);
    }
    if (e.sampled) {
      const { maxPayloadBytes } = this.options.settings;
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
      if (request.truncated || response.truncated) {
        out.write(',"truncated":true');
      }
      writeKept(out, ',"request":', request);
      writeKept(out, ',"response":', response);
    }
    out.byte(CLOSE_CURLY);
  }
}

/** `member` (`,"name":`) and what was kept of a body, as JSON; nothing when nothing was. */
function writeKept(out: ByteWriter, member: string, kept: KeptPayload) {
  if (kept.json !== undefined) {
    // JSON as it came (checked, or parsed by the gateway's check).
    out.write(member);
    out.write(kept.json);
  } else if (kept.value !== undefined) {
    // Redacted, or a body that is not JSON: its text.
    out.write(member);
    out.write(JSON.stringify(kept.value));
  }
}

/**
 * A call's events: one, or for a call that predicted several subscribed
 * events at once, one per source event with its share of the rows (the
 * call's latency and status). A batched call that failed, or whose answer
 * does not split, is one event naming no source event: the dispatcher
 * predicts its events again one by one, each with its own event.
 */
function callEvents(p: Pending & { kind: 'call' }): CallEvent[] {
  const { call } = p;
  const batched = call.source?.events;
  if (!batched) return [p];
  const shares = splitByEvent(call, batched);
  if (!shares) {
    return [
      {
        ...p,
        call: { ...call, source: undefined },
        subscriptionId: call.source!.subscriptionId,
      },
    ];
  }
  return shares.map((share, i) => ({
    ...p,
    id: i === 0 ? p.id : randomUUID(),
    call: { ...call, ...share },
  }));
}

/** A batch chunk attempt's summary event. */
function chunkEvent(
  at: number,
  c: ChunkAttempt,
  versions: Map<string, number>,
): PredictionEvent {
  return {
    id: `${c.executionId}:${c.seq}:${c.attempt}`,
    time: new Date(at).toISOString(),
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
