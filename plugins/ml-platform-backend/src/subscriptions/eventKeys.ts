import { EventParams } from '@backstage/plugin-events-node';
import { createHash } from 'node:crypto';
import { compiledJsonPath, selectFirst } from './jsonPath';

/**
 * Metadata that carries an event's id, by source: our own events, HTTP
 * ingress callers, CloudEvents over HTTP, GitHub and GitLab webhooks.
 */
const ID_HEADERS = [
  'x-event-id',
  'ce-id',
  'x-github-delivery',
  'x-gitlab-event-uuid',
  'x-request-id',
];

/** Keys longer than this are hashed to fit the column. */
const MAX_KEY_LENGTH = 200;

function hash(value: string) {
  return `sha256:${createHash('sha256').update(value).digest('hex')}`;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/**
 * An event's idempotency key: the configured payload field, else the id
 * its metadata carries, else the payload's `id`, else a hash of the
 * payload (the same event posted twice is then the same key).
 */
export function eventKeyOf(
  event: EventParams,
  idempotencyKeyPath: string | undefined,
): string {
  let key: string | undefined;
  if (idempotencyKeyPath) {
    key = text(
      selectFirst(compiledJsonPath(idempotencyKeyPath), event.eventPayload),
    );
  }
  if (!key) {
    const metadata = event.metadata ?? {};
    for (const header of ID_HEADERS) {
      const value = metadata[header];
      key = text(Array.isArray(value) ? value[0] : value);
      if (key) break;
    }
  }
  if (!key) {
    const payload = event.eventPayload as { id?: unknown } | null;
    key = text(payload && typeof payload === 'object' ? payload.id : undefined);
  }
  if (!key) key = hash(JSON.stringify(event.eventPayload ?? null));
  return key.length > MAX_KEY_LENGTH ? hash(key) : key;
}
