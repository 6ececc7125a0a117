import { GatewayInfo } from '../schema/openapi/generated';
import { PlatformApiRouter, RouteContext } from '../subsystems/types';
import { NginxGateway } from './nginx/NginxGateway';

/** `GET gateway`: the native data plane's state and, if it runs, its URL. */
export function gatewayRoutes(
  api: PlatformApiRouter,
  ctx: RouteContext,
  { nginx }: { nginx?: NginxGateway },
) {
  api.get('/gateway', async (req, res) => {
    await ctx.httpAuth.credentials(req);
    const nativeDataPlane: GatewayInfo['nativeDataPlane'] = nginx
      ? { ...nginx.status(), url: nginx.urlFor(req.socket.remoteAddress) }
      : { state: 'disabled' };
    if (!nativeDataPlane.url) delete nativeDataPlane.url;
    res.json({ nativeDataPlane });
  });
}
