import express from 'express';
import { pipeline } from 'node:stream/promises';
import { bodyTimeout } from '../http/requestGuards';
import { PlatformApiRouter, RouteContext } from '../subsystems/types';
import { ExecutionService } from './ExecutionService';

const RESULT_TYPES = {
  csv: 'text/csv; charset=utf-8',
  jsonl: 'application/x-ndjson',
  parquet: 'application/vnd.apache.parquet',
};

/**
 * Uploads stream to disk, so they come before the JSON parser; they may
 * take long, but not stall.
 */
export function uploadRoutes(
  router: express.Router,
  ctx: RouteContext,
  { executions }: { executions: ExecutionService },
) {
  router.post(
    '/models/:namespace/:name/uploads',
    bodyTimeout(ctx.limits.bodyTimeoutMs, 'idle'),
    ctx.validation,
    async (req, res) => {
      const credentials = await ctx.httpAuth.credentials(req);
      const upload = await executions.upload(
        { namespace: req.params.namespace, name: req.params.name },
        String(req.query.filename),
        req,
        credentials,
      );
      res.status(201).json(upload);
    },
  );
}

/** Batch executions: start, progress, chunks, cancel, result. */
export function executionRoutes(
  api: PlatformApiRouter,
  ctx: RouteContext,
  { executions }: { executions: ExecutionService },
) {
  api.post('/models/:namespace/:name/executions', async (req, res) => {
    const caller = await ctx.callerOf(req, res);
    res.status(202).json(await executions.create(req.params, req.body, caller));
  });

  api.get('/models/:namespace/:name/executions', async (req, res) => {
    const credentials = await ctx.httpAuth.credentials(req);
    res.json({ items: await executions.list(req.params, credentials) });
  });

  api.get('/executions/:id', async (req, res) => {
    const credentials = await ctx.httpAuth.credentials(req);
    res.json(await executions.get(req.params.id, credentials));
  });

  api.get('/executions/:id/chunks', async (req, res) => {
    const credentials = await ctx.httpAuth.credentials(req);
    res.json({
      items: await executions.chunks(
        req.params.id,
        req.query.status,
        credentials,
      ),
    });
  });

  api.post('/executions/:id/cancel', async (req, res) => {
    const caller = await ctx.callerOf(req, res);
    res.status(202).json(await executions.cancel(req.params.id, caller));
  });

  api.get('/executions/:id/result', async (req, res) => {
    const credentials = await ctx.httpAuth.credentials(req);
    const result = await executions.result(req.params.id, credentials);
    res.setHeader('Content-Type', RESULT_TYPES[result.format]);
    res.setHeader(
      'Content-Disposition',
      `attachment; filename="${result.filename}"`,
    );
    await pipeline(result.stream, res);
  });
}
