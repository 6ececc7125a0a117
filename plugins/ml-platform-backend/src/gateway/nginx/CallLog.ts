import fs from 'node:fs/promises';

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
 * The header fields of the record at `pos` and where its bodies start;
 * `incomplete` when the buffer ends inside it, `corrupt` when it is not a
 * header. The tabs are found by one scan and the header decoded at once:
 * a native call per field cost more than the rest of a record's reading.
 */
function readHeader(
  buf: Buffer,
  pos: number,
): { fields: string[]; bodies: number } | 'incomplete' | 'corrupt' {
  const limit = Math.min(buf.length, pos + MAX_HEADER_BYTES + 1);
  let tabs = 0;
  for (let p = pos; p < limit; p++) {
    if (buf[p] === TAB && ++tabs === CALL_LOG_FIELDS.length) {
      return {
        fields: buf.toString('utf8', pos, p).split('\t'),
        bodies: p + 1,
      };
    }
  }
  return limit === buf.length && limit - pos <= MAX_HEADER_BYTES
    ? 'incomplete'
    : 'corrupt';
}

/**
 * Parses records from `buf`; returns where the first incomplete one starts
 * (`buf.length` when none is). A record whose sizes do not add up is
 * skipped to the next line break and reported.
 */
export function parseCallLog(
  buf: Buffer,
  onCall: (call: LoggedCall) => void,
  onCorrupt: () => void,
): number {
  let pos = 0;
  while (pos < buf.length) {
    const header = readHeader(buf, pos);
    if (header === 'incomplete') return pos;
    let end = -1;
    if (header !== 'corrupt') {
      const requestBytes = Number(header.fields[10]) || 0;
      const keptBytes = Number(header.fields[12]) || 0;
      end = header.bodies + requestBytes + keptBytes;
      if (end >= buf.length) return pos;
    }
    if (header === 'corrupt' || buf[end] !== NEWLINE) {
      onCorrupt();
      const next = buf.indexOf(NEWLINE, pos);
      if (next < 0) return buf.length;
      pos = next + 1;
      continue;
    }
    const { fields, bodies } = header;
    const requestEnd = bodies + (Number(fields[10]) || 0);
    onCall({
      deploymentId: fields[0],
      buildId: fields[1],
      modelRef: fields[2],
      protocol: fields[3] as LoggedCall['protocol'],
      callerKind: fields[4] as LoggedCall['callerKind'],
      caller: fields[5],
      status: Number(fields[6]),
      latencyUs: Number(fields[7]),
      inFlight: Number(fields[8]) || 1,
      endedAt: Math.round(Number(fields[9]) * 1000),
      answerBytes: Number(fields[11]) || 0,
      // Views of this read's own buffer, never reused: no copies.
      request: buf.subarray(bodies, requestEnd),
      answer: buf.subarray(requestEnd, end),
    });
    pos = end + 1;
  }
  return pos;
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
    const used = parseCallLog(data, onCall, onCorrupt);
    this.pending =
      used < data.length ? Buffer.from(data.subarray(used)) : undefined;
    return true;
  }

  async close() {
    await this.handle?.close();
    this.handle = undefined;
  }
}
