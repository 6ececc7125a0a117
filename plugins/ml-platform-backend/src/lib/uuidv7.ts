import { randomUUID } from 'node:crypto';

/**
 * A version 7 UUID (RFC 9562): the time in milliseconds in its first 48
 * bits, then random bits. Ids made one after another sort together, so a
 * table keyed by them grows at the end of its index instead of touching a
 * random page of it per row (a write per page, on a SQLite file).
 */
export function uuidv7(now: number = Date.now()): string {
  const time = now.toString(16).padStart(12, '0').slice(-12);
  const random = randomUUID(); // xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx
  return `${time.slice(0, 8)}-${time.slice(8)}-7${random.slice(15)}`;
}
