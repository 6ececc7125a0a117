import { ByteWriter } from '../lib/ByteWriter';

/*
 * Pieces of an event's JSON written straight into a ByteWriter, as
 * JSON.stringify and Date#toISOString would write them, without building
 * a string per piece: the recorder writes thousands of events a second,
 * and the strings of each event's fields (joined, then encoded) were most
 * of what the backend's young generation collected with events on.
 */

const QUOTE = 0x22;
const ZERO = 0x30;
const POINT = 0x2e;
const Z = 0x5a;

/** Where the largest safe integer's 16 digits go, in reverse. */
const scratch = new Uint8Array(16);

/** A whole number from 0 to Number.MAX_SAFE_INTEGER, in decimal digits. */
function writeDigits(out: ByteWriter, value: number, minDigits = 1) {
  let n = value;
  let i = 0;
  do {
    scratch[i++] = ZERO + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0);
  while (i < minDigits) scratch[i++] = ZERO;
  while (i > 0) out.byte(scratch[--i]);
}

/**
 * A number as JSON.stringify writes it (`null` when it is not finite).
 * Whole numbers and those of at most three decimals (latencies in ms,
 * rounded so) are written digit by digit; any other as String writes it.
 */
export function writeJsonNumber(out: ByteWriter, value: number) {
  if (!Number.isFinite(value)) {
    out.write('null');
    return;
  }
  // Within these bounds a whole count of thousandths is exact, and its
  // digits are the shortest form String gives (no exponent, no rounding).
  const thousandths = Math.round(value * 1000);
  if (
    value >= 0 &&
    value < 1e12 &&
    !Object.is(value, -0) &&
    thousandths / 1000 === value
  ) {
    writeDigits(out, Math.floor(thousandths / 1000));
    let fraction = thousandths % 1000;
    if (fraction === 0) return;
    let digits = 3;
    while (fraction % 10 === 0) {
      fraction /= 10;
      digits--;
    }
    out.byte(POINT);
    writeDigits(out, fraction, digits);
    return;
  }
  out.write(String(value));
}

/** Ids as randomUUID and the batch runner make them: nothing to escape. */
const PLAIN_ID = /^[A-Za-z0-9:._-]*$/;

/** A string as JSON.stringify writes it. */
export function writeJsonString(out: ByteWriter, value: string) {
  if (PLAIN_ID.test(value)) {
    out.byte(QUOTE);
    out.write(value);
    out.byte(QUOTE);
  } else {
    out.write(JSON.stringify(value));
  }
}

/** The last second written, as `YYYY-MM-DDTHH:MM:SS.`, and its number. */
let isoSecond = NaN;
let isoPrefix = '';

/** The largest time Date#toISOString writes with a four-digit year. */
const LAST_FOUR_DIGIT_YEAR_MS = 253402300799999;

/**
 * `"` + new Date(ms).toISOString() + `"`: the date and time to the second
 * are formatted once per second, the milliseconds digit by digit.
 */
export function writeIsoTime(out: ByteWriter, ms: number) {
  out.byte(QUOTE);
  if (!Number.isInteger(ms) || ms < 0 || ms > LAST_FOUR_DIGIT_YEAR_MS) {
    out.write(new Date(ms).toISOString());
  } else {
    const second = Math.floor(ms / 1000);
    if (second !== isoSecond) {
      isoPrefix = new Date(second * 1000).toISOString().slice(0, 20);
      isoSecond = second;
    }
    out.write(isoPrefix);
    writeDigits(out, ms % 1000, 3);
    out.byte(Z);
  }
  out.byte(QUOTE);
}

/** Entries a {@link JsonMembers} keeps per name before it starts over. */
const MAX_VALUES_PER_NAME = 256;

/**
 * `,"name":"value"` members of an object, encoded once per value and then
 * copied: deployments, builds, models, callers and routes repeat from
 * event to event.
 */
export class JsonMembers {
  private readonly byName = new Map<string, Map<string, Buffer>>();

  write(out: ByteWriter, name: string, value: string) {
    let values = this.byName.get(name);
    if (!values) {
      values = new Map();
      this.byName.set(name, values);
    }
    let bytes = values.get(value);
    if (!bytes) {
      // Bounded: values that do not repeat (a caller per call) cost what
      // they cost before, never memory.
      if (values.size >= MAX_VALUES_PER_NAME) values.clear();
      bytes = Buffer.from(
        `,${JSON.stringify(name)}:${JSON.stringify(value)}`,
        'utf8',
      );
      values.set(value, bytes);
    }
    out.write(bytes);
  }
}
