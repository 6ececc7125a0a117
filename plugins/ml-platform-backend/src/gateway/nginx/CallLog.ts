import fs from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Invocation } from '../Gateway';

/**
 * A call log record: these fields, each followed by a tab (none holds a tab
 * or a line break), then the request body and the kept answer, raw, of the
 * sizes the record states, and a line break. mlp_gateway.lua writes the
 * header (`M.log`): bodies are neither escaped nor parsed on their way to
 * the backend.
 */
export const CALL_LOG_FIELDS = [
  'deployment',
  'build',
  'model',
  'protocol',
  'callerKind',
  'caller',
  'status',
  'latencyUs',
  'inFlight',
  'endedAt',
  'requestBytes',
  'answerBytes',
  'keptAnswerBytes',
] as const;

/**
 * Records parsed per turn of the event loop: what the recorders do with a
 * turn's calls (prediction events staged as bytes) runs before the next
 * turn's are parsed, so a read of thousands of calls never holds them all
 * as objects at once (objects alive at a young-generation collection are
 * copied, and promoted when there are many).
 */
export const CALL_LOG_RECORDS_PER_TURN = 100;

/** nginx's log format of the call log. */
export const CALL_LOG_FORMAT = '$mlp_record$request_body$mlp_answer';

/** One call nginx forwarded, as its call log has it. */
export interface LoggedCall {
  deploymentId: string;
  buildId: string;
  modelRef: string;
  protocol: 'v2' | 'records';
  callerKind: 'user' | 'service';
  caller: string;
  status: number;
  latencyUs: number;
  /** Native calls under way to the deployment when this one started, itself included. */
  inFlight: number;
  /** When it ended, milliseconds since the epoch. */
  endedAt: number;
  /** The answer's size; `answer` is empty when it was over the cap. */
  answerBytes: number;
  request: Buffer;
  answer: Buffer;
}

const TAB = 0x09;
const NEWLINE = 0x0a;
/** No header is longer (ids, refs and numbers). */
const MAX_HEADER_BYTES = 8192;
/**
 * No body in a record is larger: nginx logs requests it read in memory and
 * answers it kept, 1 MiB at most each. A larger size is a corrupt header,
 * not a record to wait for (the unread rest would be kept in memory).
 */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Where each header field ends (its tab), in the record being read. */
const tabs = new Int32Array(CALL_LOG_FIELDS.length);

/**
 * Finds the header's tabs from `pos` and returns where its bodies start;
 * `incomplete` when the buffer ends inside it, `corrupt` when it is not a
 * header.
 */
function findTabs(buf: Buffer, pos: number): number | 'incomplete' | 'corrupt' {
  const limit = Math.min(buf.length, pos + MAX_HEADER_BYTES + 1);
  let n = 0;
  for (let p = pos; p < limit; p++) {
    if (buf[p] === TAB) {
      tabs[n++] = p;
      if (n === CALL_LOG_FIELDS.length) return p + 1;
    }
  }
  return limit === buf.length && limit - pos <= MAX_HEADER_BYTES
    ? 'incomplete'
    : 'corrupt';
}

/** Where header field `i` starts. */
function fieldStart(pos: number, i: number): number {
  return i === 0 ? pos : tabs[i - 1] + 1;
}

/**
 * A whole number in decimal digits, as mlp_gateway.lua writes them: 0 when
 * empty (as `Number('')`), NaN when anything but a digit is there.
 */
function digits(buf: Buffer, start: number, end: number): number {
  let n = 0;
  for (let p = start; p < end; p++) {
    const d = buf[p] - 0x30;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

const POINT = 0x2e;
const MS_SCALE = [0, 100, 10, 1];

/** `ngx.now()` as written with `%.3f` (seconds), in epoch milliseconds. */
function milliseconds(buf: Buffer, start: number, end: number): number {
  let point = start;
  while (point < end && buf[point] !== POINT) point++;
  const fraction = end - point - 1;
  if (point === end || fraction === 0) return digits(buf, start, point) * 1000;
  if (fraction > 3) {
    return Math.round(Number(buf.toString('latin1', start, end)) * 1000);
  }
  return (
    digits(buf, start, point) * 1000 +
    digits(buf, point + 1, end) * MS_SCALE[fraction]
  );
}

/**
 * A text field's string, the same one as last time when its bytes are:
 * ids, refs and callers repeat from call to call, so most records decode
 * no text (decoding and splitting the header cost more than the rest of
 * reading a record).
 */
class RepeatedText {
  private bytes = Buffer.alloc(0);
  private text = '';

  of(buf: Buffer, start: number, end: number): string {
    const bytes = this.bytes;
    const length = end - start;
    if (length === bytes.length) {
      let i = 0;
      while (i < length && buf[start + i] === bytes[i]) i++;
      if (i === length) return this.text;
    }
    this.text = buf.toString('utf8', start, end);
    this.bytes = Buffer.from(buf.subarray(start, end));
    return this.text;
  }
}

/** The text fields: deployment, build, model, protocol, caller kind, caller. */
const texts = Array.from({ length: 6 }, () => new RepeatedText());

function text(buf: Buffer, pos: number, i: number): string {
  return texts[i].of(buf, fieldStart(pos, i), tabs[i]);
}

function number(buf: Buffer, pos: number, i: number): number {
  return digits(buf, fieldStart(pos, i), tabs[i]);
}

/**
 * Parses records from `buf`, from `start`, at most `maxRecords` of them;
 * returns where it stopped: where the first incomplete record starts
 * (`buf.length` when none is), or the record after the last it read. A
 * record whose sizes do not add up is skipped to the next line break and
 * reported (and counts as one).
 */
export function parseCallLog(
  buf: Buffer,
  onCall: (call: LoggedCall) => void,
  onCorrupt: () => void,
  start = 0,
  maxRecords = Infinity,
): number {
  let pos = start;
  for (let records = 0; pos < buf.length && records < maxRecords; records++) {
    const bodies = findTabs(buf, pos);
    if (bodies === 'incomplete') return pos;
    let requestEnd = -1;
    let end = -1;
    if (bodies !== 'corrupt') {
      const requestBytes = number(buf, pos, 10) || 0;
      const keptBytes = number(buf, pos, 12) || 0;
      if (requestBytes <= MAX_BODY_BYTES && keptBytes <= MAX_BODY_BYTES) {
        requestEnd = bodies + requestBytes;
        end = requestEnd + keptBytes;
        if (end >= buf.length) return pos;
      }
    }
    if (bodies === 'corrupt' || end < 0 || buf[end] !== NEWLINE) {
      onCorrupt();
      const next = buf.indexOf(NEWLINE, pos);
      if (next < 0) return buf.length;
      pos = next + 1;
      continue;
    }
    // Every field is read before onCall runs: `tabs` is this record's.
    onCall({
      deploymentId: text(buf, pos, 0),
      buildId: text(buf, pos, 1),
      modelRef: text(buf, pos, 2),
      protocol: text(buf, pos, 3) as LoggedCall['protocol'],
      callerKind: text(buf, pos, 4) as LoggedCall['callerKind'],
      caller: text(buf, pos, 5),
      status: number(buf, pos, 6),
      latencyUs: number(buf, pos, 7),
      inFlight: number(buf, pos, 8) || 1,
      endedAt: milliseconds(buf, fieldStart(pos, 9), tabs[9]),
      answerBytes: number(buf, pos, 11) || 0,
      // Views of this read's own buffer, never reused: no copies.
      request: buf.subarray(bodies, requestEnd),
      answer: buf.subarray(requestEnd, end),
    });
    pos = end + 1;
  }
  return pos;
}

/** A logged call as the gateway records it: forwarded once, by nginx. */
export function forwardedInvocation(call: LoggedCall): Invocation {
  return {
    modelRef: call.modelRef,
    deploymentId: call.deploymentId,
    buildId: call.buildId,
    protocol: call.protocol,
    route: call.protocol,
    callerKind: call.callerKind,
    status: call.status,
    latencyMs: call.latencyUs / 1000,
    requestBytes: call.request.length,
    responseBytes: call.answerBytes,
    attempts: 1,
    coldStart: false,
    caller: call.caller || undefined,
    inFlight: call.inFlight,
    request: call.request,
    response: call.answer.length > 0 ? call.answer : undefined,
    endedAt: call.endedAt,
  };
}

/**
 * Reads a log file nginx appends to, from where it last stopped. It keeps
 * its descriptor: after a rename (rotation) it reads the renamed file to
 * its end.
 */
export class CallLogReader {
  private handle?: fs.FileHandle;
  /** The start of a record the last read ended inside. */
  private pending?: Buffer;

  constructor(readonly file: string, public offset = 0) {}

  /** Records appended since the last read; false when the file is not there. */
  async read(
    onCall: (call: LoggedCall) => void,
    onCorrupt: () => void = () => {},
  ): Promise<boolean> {
    if (!this.handle) {
      try {
        this.handle = await fs.open(this.file, 'r');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw error;
      }
    }
    const { size } = await this.handle.stat();
    if (size <= this.offset) return true;
    const carried = this.pending?.length ?? 0;
    // A buffer per read: the calls' bodies are views of it.
    const buf = Buffer.allocUnsafe(carried + size - this.offset);
    this.pending?.copy(buf);
    let filled = carried;
    while (filled < buf.length) {
      const { bytesRead } = await this.handle.read(
        buf,
        filled,
        buf.length - filled,
        this.offset,
      );
      if (bytesRead === 0) break;
      filled += bytesRead;
      this.offset += bytesRead;
    }
    const data = buf.subarray(0, filled);
    let used = 0;
    for (;;) {
      const next = parseCallLog(
        data,
        onCall,
        onCorrupt,
        used,
        CALL_LOG_RECORDS_PER_TURN,
      );
      const stalled = next === used;
      used = next;
      if (stalled || used >= data.length) break;
      await nextTurn();
    }
    this.pending =
      used < data.length ? Buffer.from(data.subarray(used)) : undefined;
    return true;
  }

  async close() {
    await this.handle?.close();
    this.handle = undefined;
  }
}
