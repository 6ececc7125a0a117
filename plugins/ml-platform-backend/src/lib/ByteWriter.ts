/**
 * Text and bytes written one after the other into one buffer, grown by
 * doubling: for JSON assembled from pieces, some of them bytes that are
 * never decoded (request and answer bodies).
 */
export class ByteWriter {
  private bytes: Buffer;
  length = 0;

  constructor(initial: Buffer | number) {
    this.bytes =
      typeof initial === 'number' ? Buffer.allocUnsafeSlow(initial) : initial;
  }

  /** The whole buffer (its capacity), for reuse once nothing reads it. */
  get buffer(): Buffer {
    return this.bytes;
  }

  byte(value: number) {
    this.reserve(1);
    this.bytes[this.length++] = value;
  }

  write(part: string | Buffer) {
    if (typeof part === 'string') {
      // A UTF-16 unit is at most 3 bytes of UTF-8: `write` never cuts the
      // text short.
      this.reserve(part.length * 3);
      this.length += this.bytes.write(part, this.length);
    } else {
      this.reserve(part.length);
      this.length += part.copy(this.bytes, this.length);
    }
  }

  /** What was written from `start` on: a view, valid until the next write or reset. */
  from(start: number): Buffer {
    return this.bytes.subarray(start, this.length);
  }

  reset() {
    this.length = 0;
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
