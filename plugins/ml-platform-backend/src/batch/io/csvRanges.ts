import { InputError } from '@backstage/errors';
import { createReadStream } from 'node:fs';

const LF = 10;
const CR = 13;
const QUOTE = 34;

/** Read size of the scan: few reads, flat memory. */
const READ_BYTES = 1024 * 1024;

/** A header longer than this is not a CSV header. */
const MAX_HEADER_BYTES = 1024 * 1024;

/** Whole CSV records at bytes [offset, offset + length) of a file. */
export interface CsvRecordRange {
  offset: number;
  length: number;
  /** Data records in the range; blank lines are not records. */
  records: number;
  /** 1-based line of the range's first byte, for messages. */
  firstLine: number;
}

/**
 * Finds record boundaries in CSV bytes without parsing fields, and cuts the
 * records after the header into ranges of `recordsPerRange`: workers read
 * their range of the input file itself, so the planner copies nothing.
 *
 * A line break ends a record only outside quotes (each `"` toggles; the `""`
 * escape toggles twice), as in `splitCsvRecords`; a buffer without quotes is
 * just a scan for line breaks. Blank lines (empty, or a lone `\r`) are
 * skipped and not counted, like the worker does. Both bytes looked for are
 * ASCII, so multi-byte UTF-8 characters never matter here. Ranges are
 * contiguous: blank lines between records belong to the next range.
 */
export class CsvRangeScanner {
  private base = 0;
  private line = 1;
  private inQuotes = false;
  private lastByte = -1;
  private recordStart = 0;
  private headerText?: string;
  /** Buffers kept until the header record is complete. */
  private headBuffers: Buffer[] = [];
  private rangeStart = 0;
  private rangeLine = 1;
  private records = 0;

  constructor(private readonly recordsPerRange: number) {}

  /** The header record's text (BOM and line end dropped), once it is read. */
  get header(): string | undefined {
    return this.headerText;
  }

  /** Ranges completed by `buffer`, the next bytes of the file. */
  push(buffer: Buffer): CsvRecordRange[] {
    const ranges: CsvRecordRange[] = [];
    const base = this.base;
    if (this.headerText === undefined) this.headBuffers.push(buffer);
    let quote = buffer.indexOf(QUOTE);
    for (
      let nl = buffer.indexOf(LF);
      nl !== -1;
      nl = buffer.indexOf(LF, nl + 1)
    ) {
      while (quote !== -1 && quote < nl) {
        this.inQuotes = !this.inQuotes;
        quote = buffer.indexOf(QUOTE, quote + 1);
      }
      this.line += 1;
      if (this.inQuotes) continue;
      const end = base + nl;
      const length = end - this.recordStart;
      const blank =
        length === 0 ||
        (length === 1 && (nl > 0 ? buffer[nl - 1] : this.lastByte) === CR);
      if (!blank) this.record(end, end + 1, ranges);
      this.recordStart = end + 1;
    }
    while (quote !== -1) {
      this.inQuotes = !this.inQuotes;
      quote = buffer.indexOf(QUOTE, quote + 1);
    }
    this.base = base + buffer.length;
    if (buffer.length > 0) this.lastByte = buffer[buffer.length - 1];
    if (this.headerText === undefined && this.base > MAX_HEADER_BYTES) {
      throw new InputError(
        `no CSV header record in the first ${MAX_HEADER_BYTES} bytes`,
      );
    }
    return ranges;
  }

  /** The last range, at the end of the file. */
  end(): CsvRecordRange[] {
    const ranges: CsvRecordRange[] = [];
    const length = this.base - this.recordStart;
    if (length > 1 || (length === 1 && this.lastByte !== CR)) {
      this.record(this.base, this.base, ranges);
    }
    if (this.records > 0) ranges.push(this.cut(this.base));
    this.headBuffers = [];
    return ranges;
  }

  /** A record ending at `end` (its line break excluded), next one at `next`. */
  private record(end: number, next: number, ranges: CsvRecordRange[]) {
    if (this.headerText === undefined) {
      this.headerText = this.readHead(this.recordStart, end);
      this.rangeStart = next;
      this.rangeLine = this.line;
      return;
    }
    this.records += 1;
    if (this.records === this.recordsPerRange) {
      ranges.push(this.cut(next));
      this.rangeLine = this.line;
    }
  }

  private cut(end: number): CsvRecordRange {
    const range = {
      offset: this.rangeStart,
      length: end - this.rangeStart,
      records: this.records,
      firstLine: this.rangeLine,
    };
    this.rangeStart = end;
    this.records = 0;
    return range;
  }

  private readHead(start: number, end: number): string {
    let text = Buffer.concat(this.headBuffers)
      .subarray(start, end)
      .toString('utf8');
    this.headBuffers = [];
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return text.endsWith('\r') ? text.slice(0, -1) : text;
  }
}

/**
 * The header and the record ranges of a CSV file, read once from the front;
 * each range carries the header text. Memory: one read buffer.
 */
export async function* csvFileRanges(
  path: string,
  recordsPerRange: number,
): AsyncGenerator<CsvRecordRange & { header: string }> {
  const scanner = new CsvRangeScanner(recordsPerRange);
  const withHeader = (ranges: CsvRecordRange[]) =>
    ranges.map(range => ({ ...range, header: scanner.header! }));
  for await (const buffer of createReadStream(path, {
    highWaterMark: READ_BYTES,
  })) {
    yield* withHeader(scanner.push(buffer as Buffer));
  }
  yield* withHeader(scanner.end());
}
