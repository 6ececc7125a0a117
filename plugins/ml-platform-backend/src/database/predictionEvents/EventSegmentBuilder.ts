import { PredictionEvent } from '@internal/plugin-ml-platform-common';
import {
  EncodedEventSegment,
  encodePredictionEvent,
} from './PredictionEventStore';

const OPEN_BRACKET = 0x5b;
const COMMA = 0x2c;
const CLOSE_BRACKET = 0x5d;

/** One model's events so far, as the bytes of a JSON array being written. */
class OpenSegment {
  private bytes = Buffer.allocUnsafeSlow(16 * 1024);
  private length = 0;
  count = 0;
  private minTime = Infinity;
  private maxTime = -Infinity;

  append(json: string, time: number) {
    // A UTF-16 unit is at most 3 bytes of UTF-8; +2 for the separator and
    // the closing bracket, so `write` never cuts an event short.
    this.reserve(json.length * 3 + 2);
    this.bytes[this.length++] = this.count === 0 ? OPEN_BRACKET : COMMA;
    this.length += this.bytes.write(json, this.length);
    this.count++;
    if (time < this.minTime) this.minTime = time;
    if (time > this.maxTime) this.maxTime = time;
  }

  finish(modelRef: string): EncodedEventSegment {
    this.bytes[this.length++] = CLOSE_BRACKET;
    return {
      modelRef,
      minTime: this.minTime,
      maxTime: this.maxTime,
      count: this.count,
      json: this.bytes.subarray(0, this.length),
    };
  }

  private reserve(extra: number) {
    if (this.length + extra <= this.bytes.length) return;
    const grown = Buffer.allocUnsafeSlow(
      Math.max(this.bytes.length * 2, this.length + extra),
    );
    this.bytes.copy(grown, 0, 0, this.length);
    this.bytes = grown;
  }
}

/**
 * Prediction events waiting to be stored, encoded as they arrive into one
 * growing buffer per model. What waits between writes is bytes outside the
 * JavaScript heap, which the garbage collector neither copies nor traces:
 * kept as objects (parsed requests and answers) for the second or so
 * between writes, every event outlived two young-generation collections
 * and was copied twice and then promoted, at thousands of calls a second.
 */
export class EventSegmentBuilder {
  /** Per model, in the order first seen: its full segments, then the open one. */
  private models = new Map<
    string,
    { full: EncodedEventSegment[]; open?: OpenSegment }
  >();
  private events = 0;

  /** `segmentSize`: a model's segment holds at most this many events. */
  constructor(private readonly segmentSize: number) {}

  /** Events added since the last {@link take}. */
  get size(): number {
    return this.events;
  }

  add(event: PredictionEvent): void {
    let model = this.models.get(event.modelRef);
    if (!model) {
      model = { full: [] };
      this.models.set(event.modelRef, model);
    }
    const segment = (model.open ??= new OpenSegment());
    segment.append(encodePredictionEvent(event), Date.parse(event.time));
    this.events++;
    if (segment.count >= this.segmentSize) {
      model.full.push(segment.finish(event.modelRef));
      model.open = undefined;
    }
  }

  /** The segments of every event added so far; the builder starts empty. */
  take(): EncodedEventSegment[] {
    const taken: EncodedEventSegment[] = [];
    for (const [modelRef, { full, open }] of this.models) {
      taken.push(...full);
      if (open) taken.push(open.finish(modelRef));
    }
    this.models = new Map();
    this.events = 0;
    return taken;
  }
}
