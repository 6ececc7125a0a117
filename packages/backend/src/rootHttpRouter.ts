import { rootHttpRouterServiceFactory } from '@backstage/backend-defaults/rootHttpRouter';

/** Model invocations: the ML platform's data plane. */
const INVOKE_PATH =
  /^\/api\/ml-platform\/(v2\/models\/[^/]+\/infer|models\/[^/]+\/[^/]+\/predict)$/;

export function isInvocation(req: { method: string; path: string }) {
  return req.method === 'POST' && INVOKE_PATH.test(req.path);
}

/**
 * The root HTTP router with a short path for model invocations: they get
 * CORS (the portal's "Try it" calls them from the browser) and the plugin's
 * own authentication, but not helmet's HTML security headers, response
 * compression or an access log line per request, which together cost more
 * than the model itself for small predictions. The gateway records every
 * call for monitoring instead.
 */
export const mlPlatformRootHttpRouter = rootHttpRouterServiceFactory({
  configure({ app, routes, middleware, applyDefaults }) {
    const cors = middleware.cors();
    app.use((req, res, next) => {
      if (!isInvocation(req)) {
        next();
        return;
      }
      cors(req, res, error => (error ? next(error) : routes(req, res, next)));
    });
    applyDefaults();
  },
});
