import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/**
 * Splits a byte stream into lines (without `\n` / `\r\n`), numbered from 1.
 * Hand-rolled rather than `readline` so that errors of the underlying stream
 * reject the iteration and breaking out of the loop destroys the stream.
 */
export async function* readLines(
  input: Readable,
): AsyncGenerator<{ line: string; lineNumber: number }> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let lineNumber = 0;
  for await (const chunk of input) {
    pending +=
      typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
    let start = 0;
    let newline = pending.indexOf('\n', start);
    while (newline !== -1) {
      const end =
        newline > start && pending.charCodeAt(newline - 1) === 13
          ? newline - 1
          : newline;
      lineNumber += 1;
      yield { line: pending.slice(start, end), lineNumber };
      start = newline + 1;
      newline = pending.indexOf('\n', start);
    }
    pending = pending.slice(start);
  }
  pending += decoder.end();
  if (pending.length > 0) {
    lineNumber += 1;
    yield {
      line: pending.endsWith('\r') ? pending.slice(0, -1) : pending,
      lineNumber,
    };
  }
}

/** Drops a UTF-8 byte order mark (Excel and PowerShell write one). */
export function stripBom(line: string): string {
  return line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
}
