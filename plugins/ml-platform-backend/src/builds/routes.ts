import { ModelCatalog } from '../services/ModelCatalog';
import { PlatformApiRouter, RouteContext } from '../subsystems/types';
import { BuildService } from './BuildService';
import { streamBuildLog } from './streamBuildLog';

/** A page of a list: the query's bounds, defaults from the document. */
export function page(query: { limit?: number; offset?: number }) {
  return { limit: query.limit ?? 20, offset: query.offset ?? 0 };
}

/** Registration of a model's source, its builds and their logs. */
export function buildRoutes(
  api: PlatformApiRouter,
  ctx: RouteContext,
  { builds, models }: { builds: BuildService; models: ModelCatalog },
) {
  api.post('/models/:namespace/:name/register', async (req, res) => {
    const caller = await ctx.callerOf(req, res);
    const body = req.body ?? {};
    await builds.checkSource(body);
    res.json(await models.register(req.params, body, caller));
  });

  api.post('/models/:namespace/:name/builds', async (req, res) => {
    const caller = await ctx.callerOf(req, res);
    const { build, created } = await builds.requestBuild({
      ref: req.params,
      ...req.body,
      trigger: 'api',
      caller,
    });
    res.status(created ? 202 : 200).json(build);
  });

  api.get('/models/:namespace/:name/builds', async (req, res) => {
    const credentials = await ctx.httpAuth.credentials(req);
    res.json(await builds.listBuilds(req.params, page(req.query), credentials));
  });

  api.get('/builds/:id', async (req, res) => {
    const credentials = await ctx.httpAuth.credentials(req);
    res.json(await builds.getBuild(req.params.id, credentials));
  });

  api.get('/builds/:id/logs', async (req, res) => {
    const credentials = await ctx.httpAuth.credentials(req);
    await builds.getBuild(req.params.id, credentials);
    await streamBuildLog({
      builds,
      buildId: req.params.id,
      follow: req.query.follow === 'true',
      after: req.query.after,
      format: req.query.format ?? 'text',
      req,
      res,
    });
  });

  api.post('/builds/:id/cancel', async (req, res) => {
    const caller = await ctx.callerOf(req, res);
    res.status(202).json(await builds.cancel(req.params.id, caller));
  });
}
