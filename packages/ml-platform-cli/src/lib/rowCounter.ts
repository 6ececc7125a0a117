/**
 * Counts the rows of a CSV or JSON Lines file as its bytes go by (during an
 * upload), so progress has a total before the platform has read the whole
 * input. CSV: line breaks outside double quotes, less the header; JSON
 * Lines: lines with something on them.
 */
export class RowCounter {
  private breaks = 0;
  private inQuotes = false;
  private lineHasContent = false;
  private contentLines = 0;

  constructor(private readonly format: 'csv' | 'jsonl') {}

  push(bytes: Uint8Array) {
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (b === 0x22 /* " */ && this.format === 'csv') {
        this.inQuotes = !this.inQuotes; // "" inside quotes toggles twice
      }
      if (b === 0x0a /* \n */ && !this.inQuotes) {
        this.breaks++;
        if (this.lineHasContent) this.contentLines++;
        this.lineHasContent = false;
      } else if (b !== 0x0d && b !== 0x20 && b !== 0x09) {
        this.lineHasContent = true;
      }
    }
  }

  /** Rows seen so far (all of them once the file has been pushed). */
  get rows(): number {
    const lines = this.contentLines + (this.lineHasContent ? 1 : 0);
    return this.format === 'csv' ? Math.max(0, lines - 1) : lines;
  }
}
