import { PredictionEvent } from '@internal/plugin-ml-platform-common';
import { EncodedEventSegment } from './PredictionEventStore';
import { ByteWriter } from '../../lib/ByteWriter';

const OPEN_BRACKET = 0x5b;
const COMMA = 0x2c;
const CLOSE_BRACKET = 0x5d;

/** Buffers kept for the next segments: at most this many, this large. */
const KEPT_BUFFERS = 8;
const KEPT_BUFFER_BYTES = 16 * 1024 * 1024;

/** One model's events so far, as the bytes of a JSON array being written. */
class OpenSegment {
  private readonly writer: ByteWriter;
  count = 0;
  private minTime = Infinity;
  private maxTime = -Infinity;

  constructor(bytes: Buffer) {
    this.writer = new ByteWriter(bytes);
  }

  get buffer(): Buffer {
    return this.writer.buffer;
  }

  append(json: string | Buffer, time: number) {
    this.writer.byte(this.count === 0 ? OPEN_BRACKET : COMMA);
    this.writer.write(json);
    this.count++;
    if (time < this.minTime) this.minTime = time;
    if (time > this.maxTime) this.maxTime = time;
  }

  finish(modelRef: string): EncodedEventSegment {
    this.writer.byte(CLOSE_BRACKET);
    return {
      modelRef,
      minTime: this.minTime,
      maxTime: this.maxTime,
      count: this.count,
      json: this.writer.from(0),
    };
  }
}

/**
 * Prediction events waiting to be stored, encoded as they arrive into one
 * growing buffer per model. What waits between writes is bytes outside the
 * JavaScript heap, which the garbage collector neither copies nor traces:
 * kept as objects (parsed requests and answers) for the second or so
 * between writes, every event outlived two young-generation collections
 * and was copied twice and then promoted, at thousands of calls a second.
 * The buffers of written segments are given back ({@link release}) and
 * reused: a new buffer, grown by copying, per model and write cost more
 * than the events' own bytes.
 */
export class EventSegmentBuilder {
  /** Per model, in the order first seen: its full segments, then the open one. */
  private models = new Map<
    string,
    { full: OpenSegment[]; open?: OpenSegment }
  >();
  private events = 0;
  /** Buffers of the segments the last {@link take} handed out. */
  private lent: Buffer[] = [];
  private free: Buffer[] = [];

  /** `segmentSize`: a model's segment holds at most this many events. */
  constructor(private readonly segmentSize: number) {}

  /** Events added since the last {@link take}. */
  get size(): number {
    return this.events;
  }

  add(event: PredictionEvent): void {
    this.addJson(event.modelRef, JSON.stringify(event), Date.parse(event.time));
  }

  /**
   * An event of `modelRef` that happened at `time` (epoch ms), already
   * encoded as JSON.
   */
  addJson(modelRef: string, json: string | Buffer, time: number): void {
    let model = this.models.get(modelRef);
    if (!model) {
      model = { full: [] };
      this.models.set(modelRef, model);
    }
    const segment = (model.open ??= new OpenSegment(
      this.free.pop() ?? Buffer.allocUnsafeSlow(16 * 1024),
    ));
    segment.append(json, time);
    this.events++;
    if (segment.count >= this.segmentSize) {
      model.full.push(segment);
      model.open = undefined;
    }
  }

  /**
   * The segments of every event added so far; the builder starts empty.
   * Their `json` stays valid until {@link release}; a take not released
   * leaves its buffers to the garbage collector.
   */
  take(): EncodedEventSegment[] {
    const taken: EncodedEventSegment[] = [];
    this.lent = [];
    for (const [modelRef, { full, open }] of this.models) {
      for (const segment of open ? [...full, open] : full) {
        taken.push(segment.finish(modelRef));
        this.lent.push(segment.buffer);
      }
    }
    this.models = new Map();
    this.events = 0;
    return taken;
  }

  /**
   * The last take's segments are written, or failed to be (nothing reads
   * their `json` any more): their buffers hold the next ones.
   */
  release(): void {
    for (const buffer of this.lent) {
      if (
        this.free.length < KEPT_BUFFERS &&
        buffer.length <= KEPT_BUFFER_BYTES
      ) {
        this.free.push(buffer);
      }
    }
    this.lent = [];
  }
}
