import { parseInput } from '../http/parseInput';
import { PlatformApiRouter, RouteContext } from '../subsystems/types';
import { LogSearch, logsQuery } from './LogSearch';

/** `GET models/{ns}/{name}/logs`. */
export function logRoutes(
  api: PlatformApiRouter,
  ctx: RouteContext,
  services: { logs: LogSearch },
) {
  api.get('/models/:namespace/:name/logs', async (req, res) => {
    const credentials = await ctx.httpAuth.credentials(req);
    const query = parseInput(logsQuery, req.query, 'query');
    res.json(await services.logs.search(req.params, query, credentials));
  });
}
