const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_SQUARE = 0x5b;
const CLOSE_SQUARE = 0x5d;
const OPEN_CURLY = 0x7b;
const CLOSE_CURLY = 0x7d;

const ARRAY = 1;
const OBJECT = 2;

/** After `\` in a string: `"\/bfnrt` (and `u`, checked apart). */
const SIMPLE_ESCAPES = new Set([...'"\\/bfnrt'].map(c => c.charCodeAt(0)));
const LITERALS = new Map(
  ['true', 'false', 'null'].map(w => [w.charCodeAt(0), Buffer.from(w)]),
);

function skipSpace(b: Buffer, from: number): number {
  let i = from;
  let c = b[i];
  while (c === SPACE || c === LF || c === CR || c === TAB) c = b[++i];
  return i;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= ZERO && c <= NINE;
}

function isHex(c: number | undefined): boolean {
  return (
    c !== undefined &&
    ((c >= ZERO && c <= NINE) ||
      (c >= 0x41 && c <= 0x46) ||
      (c >= 0x61 && c <= 0x66))
  );
}

/** The end of the string starting at `i` (its quote), or -1. */
function stringEnd(b: Buffer, i: number): number {
  for (let j = i + 1; j < b.length; j++) {
    const c = b[j];
    if (c === QUOTE) return j + 1;
    if (c < SPACE) return -1;
    if (c === BACKSLASH) {
      const e = b[++j];
      if (e === 0x75) {
        if (!(isHex(b[j + 1]) && isHex(b[j + 2]))) return -1;
        if (!(isHex(b[j + 3]) && isHex(b[j + 4]))) return -1;
        j += 4;
      } else if (e === undefined || !SIMPLE_ESCAPES.has(e)) {
        return -1;
      }
    }
  }
  return -1;
}

/** The end of the number starting at `i`, or -1. */
function numberEnd(b: Buffer, i: number): number {
  let j = i;
  if (b[j] === MINUS) j++;
  if (b[j] === ZERO) j++;
  else if (isDigit(b[j])) while (isDigit(b[j])) j++;
  else return -1;
  if (b[j] === DOT) {
    if (!isDigit(b[++j])) return -1;
    while (isDigit(b[j])) j++;
  }
  if (b[j] === 0x65 || b[j] === 0x45) {
    j++;
    if (b[j] === PLUS || b[j] === MINUS) j++;
    if (!isDigit(b[j])) return -1;
    while (isDigit(b[j])) j++;
  }
  return j;
}

/** Where the value after an object's key (at `i`) and colon starts, or -1. */
function afterKey(b: Buffer, i: number): number {
  if (b[i] !== QUOTE) return -1;
  const end = stringEnd(b, i);
  if (end < 0) return -1;
  const colon = skipSpace(b, end);
  return b[colon] === COLON ? skipSpace(b, colon + 1) : -1;
}

/**
 * Whether `bytes` are one JSON text (RFC 8259) that `JSON.parse` of their
 * UTF-8 decoding accepts, checked without building anything: a body known
 * to be JSON can be stored as it came, unparsed. Nesting is tracked in an
 * array, not on the call stack, so no depth is too deep for it.
 */
export function isJson(bytes: Buffer): boolean {
  const b = bytes;
  const n = b.length;
  const open: number[] = [];
  let i = skipSpace(b, 0);
  for (;;) {
    // A value starts at i.
    const c = b[i];
    if (c === OPEN_CURLY || c === OPEN_SQUARE) {
      i = skipSpace(b, i + 1);
      if (b[i] === (c === OPEN_CURLY ? CLOSE_CURLY : CLOSE_SQUARE)) {
        i++;
      } else if (c === OPEN_CURLY) {
        open.push(OBJECT);
        i = afterKey(b, i);
        if (i < 0) return false;
        continue;
      } else {
        open.push(ARRAY);
        continue;
      }
    } else if (c === QUOTE) {
      i = stringEnd(b, i);
    } else if (c === MINUS || isDigit(c)) {
      i = numberEnd(b, i);
    } else {
      const word = c === undefined ? undefined : LITERALS.get(c);
      if (!word) return false;
      for (let k = 1; k < word.length; k++) {
        if (b[i + k] !== word[k]) return false;
      }
      i += word.length;
    }
    if (i < 0) return false;
    // A value ended: close what it ends, or go on to the next element.
    for (;;) {
      i = skipSpace(b, i);
      if (open.length === 0) return i === n;
      const inside = open[open.length - 1];
      const next = b[i];
      if (next === COMMA) {
        i = skipSpace(b, i + 1);
        if (inside === OBJECT) {
          i = afterKey(b, i);
          if (i < 0) return false;
        }
        break;
      }
      if (next !== (inside === OBJECT ? CLOSE_CURLY : CLOSE_SQUARE)) {
        return false;
      }
      open.pop();
      i++;
    }
  }
}
