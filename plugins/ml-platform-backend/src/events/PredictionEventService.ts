import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import {
  PredictionEvent,
  PredictionEventPage,
} from '@internal/plugin-ml-platform-common';
import { z } from 'zod';
import {
  PredictionEventQuery,
  PredictionEventStore,
} from '../database/predictionEvents/PredictionEventStore';
import { ModelCatalog } from '../services/ModelCatalog';
import { exportEventsQuery, listEventsQuery } from './eventsQuery';

type ModelRef = { namespace: string; name: string };

/** Rows per read while an export streams. */
const EXPORT_PAGE = 500;

function encodeCursor(event: PredictionEvent): string {
  return Buffer.from(
    JSON.stringify([Date.parse(event.time), event.id]),
  ).toString('base64url');
}

function decodeCursor(cursor: string): { time: number; id: string } {
  try {
    const [time, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    if (typeof time === 'number' && typeof id === 'string') return { time, id };
  } catch {
    // answered below
  }
  throw new InputError('query.cursor: expected a cursor from a page');
}

/** The columns of a CSV export, in order. */
export const CSV_COLUMNS: (keyof PredictionEvent)[] = [
  'id',
  'time',
  'modelRef',
  'version',
  'buildId',
  'deploymentId',
  'executionId',
  'caller',
  'callerKind',
  'trigger',
  'route',
  'latencyMs',
  'status',
  'rows',
  'error',
  'sampled',
  'truncated',
  'sourceEventId',
  'subscriptionId',
  'request',
  'response',
];

function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text =
    typeof value === 'object' ? JSON.stringify(value) : String(value);
  // Cells a spreadsheet would run as a formula are quoted with a leading '.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsvLine(event: PredictionEvent): string {
  return `${CSV_COLUMNS.map(c => csvCell(event[c])).join(',')}\n`;
}

/** Reading prediction events: a page, or every match as a stream. */
export class PredictionEventService {
  constructor(
    private readonly options: {
      store: PredictionEventStore;
      models: ModelCatalog;
    },
  ) {}

  async list(
    ref: ModelRef,
    query: z.output<typeof listEventsQuery>,
    credentials: BackstageCredentials,
  ): Promise<PredictionEventPage> {
    const modelRef = await this.readableModel(ref, credentials);
    const { cursor, limit, ...filters } = query;
    const items = await this.options.store.listEvents({
      ...filters,
      modelRef,
      limit: limit + 1,
      before: cursor ? decodeCursor(cursor) : undefined,
    });
    const page: PredictionEventPage = { items: items.slice(0, limit) };
    if (items.length > limit)
      page.nextCursor = encodeCursor(page.items.at(-1)!);
    return page;
  }

  /** Every matching event, newest first, read a page at a time. */
  async *export(
    ref: ModelRef,
    query: Omit<z.output<typeof exportEventsQuery>, 'format'>,
    credentials: BackstageCredentials,
  ): AsyncGenerator<PredictionEvent> {
    const modelRef = await this.readableModel(ref, credentials);
    let before: PredictionEventQuery['before'];
    for (;;) {
      const page = await this.options.store.listEvents({
        ...query,
        modelRef,
        limit: EXPORT_PAGE,
        before,
      });
      yield* page;
      if (page.length < EXPORT_PAGE) return;
      const last = page.at(-1)!;
      before = { time: Date.parse(last.time), id: last.id };
    }
  }

  private async readableModel(
    ref: ModelRef,
    credentials: BackstageCredentials,
  ) {
    const entity = await this.options.models.getEntity(ref, credentials);
    return stringifyEntityRef(entity);
  }
}
