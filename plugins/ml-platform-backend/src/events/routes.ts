import { PlatformApiRouter, RouteContext } from '../subsystems/types';
import { parseInput } from '../http/parseInput';
import { exportEventsQuery, listEventsQuery } from './eventsQuery';
import {
  PredictionEventService,
  toCsvLine,
  CSV_COLUMNS,
} from './PredictionEventService';

/** `GET models/{ns}/{name}/events` and its export. */
export function predictionEventRoutes(
  api: PlatformApiRouter,
  ctx: RouteContext,
  services: { events: PredictionEventService },
) {
  const { httpAuth } = ctx;
  const { events } = services;

  api.get('/models/:namespace/:name/events', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const query = parseInput(listEventsQuery, req.query, 'query');
    res.json(await events.list(req.params, query, credentials));
  });

  api.get('/models/:namespace/:name/events/export', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const { format, ...query } = parseInput(
      exportEventsQuery,
      req.query,
      'query',
    );
    const rows = events.export(req.params, query, credentials);
    // The first read checks access before a byte is sent.
    const first = await rows.next();
    const name = `${req.params.name}-events.${format}`;
    res.setHeader(
      'Content-Type',
      format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
    );
    res.setHeader('Content-Disposition', `attachment; filename="${name}"`);
    const line =
      format === 'csv' ? toCsvLine : (e: unknown) => `${JSON.stringify(e)}\n`;
    if (format === 'csv') res.write(`${CSV_COLUMNS.join(',')}\n`);
    if (!first.done) {
      res.write(line(first.value));
      for await (const event of rows) {
        if (res.destroyed) return;
        if (!res.write(line(event))) {
          await new Promise(resolve => {
            res.once('drain', resolve);
            res.once('close', resolve);
          });
        }
      }
    }
    res.end();
  });
}
