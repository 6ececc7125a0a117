import { StringDecoder } from 'node:string_decoder';

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

/** A malformed CSV document; `line` is 1-based. */
export class CsvSyntaxError extends Error {
  constructor(readonly line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvSyntaxError';
  }
}

/** A parsed record and the line it starts on. */
export interface CsvRecord {
  fields: string[];
  line: number;
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) {
    n += 1;
  }
  return n;
}

/**
 * Incremental RFC 4180 parser over decoded text: comma separated, `"`
 * quoting with `""` escapes, fields may span lines, LF / CRLF / CR line
 * ends, blank lines skipped. A quote inside an unquoted field is kept as is
 * (as Python's csv module does, which reads the chunks later).
 *
 * csv-parse is not used here: it pushes every record through an object-mode
 * stream, which costs more than the parsing itself (and ~5x more under
 * Jest); this hands back every record of a text chunk at once.
 */
export class CsvParser {
  private pending = '';
  /** Line number of the first character of `pending`. */
  private line = 1;
  private started = false;

  /** Records completed by `text`; an unfinished last record waits for more. */
  push(text: string): CsvRecord[] {
    let chunk = text;
    if (!this.started && chunk.length > 0) {
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    this.pending += chunk;
    return this.parse(false);
  }

  /** The last record, at the end of the input. */
  end(): CsvRecord[] {
    return this.parse(true);
  }

  private parse(final: boolean): CsvRecord[] {
    const s = this.pending;
    const records: CsvRecord[] = [];
    let start = 0;
    while (start < s.length) {
      const record = parseRecord(s, start, this.line, final);
      if (!record) break;
      // a blank line (not a lone "") parses as one empty field
      const { fields } = record;
      const blank =
        fields.length === 1 &&
        fields[0] === '' &&
        s.charCodeAt(start) !== QUOTE;
      if (!blank) records.push({ fields, line: this.line });
      this.line += record.newlines + 1;
      start = record.next;
    }
    this.pending = final ? '' : s.slice(start);
    return records;
  }
}

/**
 * The record starting at `start`: its fields, where the next one starts and
 * how many line breaks its quoted fields hold; undefined when `s` ends
 * before the record does and more input may follow.
 */
function parseRecord(
  s: string,
  start: number,
  line: number,
  final: boolean,
): { fields: string[]; next: number; newlines: number } | undefined {
  const n = s.length;
  const fields: string[] = [];
  let i = start;
  let newlines = 0;
  for (;;) {
    let value: string;
    if (i < n && s.charCodeAt(i) === QUOTE) {
      // quoted field: runs to a quote that is not followed by another
      const open = i;
      let from = i + 1;
      value = '';
      for (;;) {
        const close = s.indexOf('"', from);
        // at the very end we cannot tell a closing quote from a `""`
        if (close === -1 || (close + 1 === n && !final)) {
          if (!final) return undefined;
          throw new CsvSyntaxError(
            line + newlines,
            'quoted field is never closed',
          );
        }
        if (s.charCodeAt(close + 1) === QUOTE) {
          value += s.slice(from, close + 1);
          from = close + 2;
        } else {
          value += s.slice(from, close);
          i = close + 1;
          break;
        }
      }
      newlines += countNewlines(s.slice(open, i));
      const after = s.charCodeAt(i);
      if (i < n && after !== COMMA && after !== LF && after !== CR) {
        throw new CsvSyntaxError(
          line + newlines,
          `unexpected ${JSON.stringify(
            s[i],
          )} after the closing quote of field ${fields.length + 1}`,
        );
      }
    } else {
      let j = i;
      while (j < n) {
        const c = s.charCodeAt(j);
        if (c === COMMA || c === LF || c === CR) break;
        j += 1;
      }
      value = s.slice(i, j);
      i = j;
    }
    fields.push(value);
    if (i >= n) {
      return final ? { fields, next: n, newlines } : undefined;
    }
    const c = s.charCodeAt(i);
    if (c === COMMA) {
      i += 1;
    } else if (c === CR && i + 1 === n && !final) {
      // may be the first half of a CRLF
      return undefined;
    } else {
      const next = c === CR && s.charCodeAt(i + 1) === LF ? i + 2 : i + 1;
      return { fields, next, newlines };
    }
  }
}

/**
 * Records of a CSV byte stream, a batch per chunk read. Errors of the stream
 * reject the iteration; stopping early destroys the stream.
 */
export async function* csvRecordBatches(
  input: AsyncIterable<Buffer | string>,
): AsyncGenerator<CsvRecord[]> {
  const decoder = new StringDecoder('utf8');
  const parser = new CsvParser();
  for await (const chunk of input) {
    const records = parser.push(
      typeof chunk === 'string' ? chunk : decoder.write(chunk),
    );
    if (records.length > 0) yield records;
  }
  const last = parser.push(decoder.end());
  last.push(...parser.end());
  if (last.length > 0) yield last;
}

const NEEDS_QUOTES = /[",\r\n]/;

/** One CSV line (with its `\n`), quoting only the cells that need it. */
export function csvLine(cells: string[]): string {
  let line = '';
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    if (i > 0) line += ',';
    line += NEEDS_QUOTES.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
  }
  return `${line}\n`;
}
