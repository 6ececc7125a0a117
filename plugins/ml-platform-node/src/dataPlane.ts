import {
  createServiceFactory,
  createServiceRef,
} from '@backstage/backend-plugin-api';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * Answers the platform's data-plane requests (model invocations) straight
 * from the HTTP server. It authenticates each request itself.
 *
 * @public
 */
export interface DataPlaneHandler {
  /**
   * How to answer `req` if it is one this handler answers, else undefined.
   * Called on every request the server gets, so it must be cheap.
   */
  match(
    req: IncomingMessage,
  ): ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
}
/**
 * Lets the ML platform plugin answer model invocations ahead of the portal's
 * HTTP stack (express routing through the root, plugin and plugin routers,
 * the credentials barrier, helmet, compression, the access log), which costs
 * more than a small prediction itself. The plugin registers its handler; a
 * root HTTP router made by `createMlPlatformRootHttpRouter` (in the backend
 * plugin package) calls it. Without that router nothing calls it, and
 * invocations take the plugin's ordinary routes: same answers, slower.
 *
 * @public
 */
export interface MlPlatformDataPlaneService {
  /** Serve with `handler` until the returned function is called. */
  register(handler: DataPlaneHandler): () => void;
}

/** Express-style middleware run before the handler (CORS). */
export type DataPlaneMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/**
 * The data plane of one backend: holds the plugin's handler and takes over
 * an HTTP server's `request` events, sending what the handler matches to it
 * and everything else to the server's previous listeners (the express app).
 *
 * @public
 */
export class DataPlaneDispatcher implements MlPlatformDataPlaneService {
  private handler?: DataPlaneHandler;

  register(handler: DataPlaneHandler): () => void {
    this.handler = handler;
    return () => {
      if (this.handler === handler) this.handler = undefined;
    };
  }

  /** Answers `req` if the registered handler matches it; false otherwise. */
  dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    before?: DataPlaneMiddleware,
  ): boolean {
    const serve = this.handler?.match(req);
    if (!serve) return false;
    // CORS is for browsers, and they send an Origin with every POST.
    if (!before || req.headers.origin === undefined) {
      serve(req, res);
      return true;
    }
    before(req, res, error => {
      if (!error) {
        serve(req, res);
        return;
      }
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({ error: { name: 'Error', message: String(error) } }),
      );
    });
    return true;
  }

  /** Puts this dispatcher in front of `server`'s request listeners. */
  attach(server: Server, before?: DataPlaneMiddleware): void {
    const previous = server.listeners('request') as Array<
      (req: IncomingMessage, res: ServerResponse) => void
    >;
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (this.dispatch(req, res, before)) return;
      for (const listener of previous) listener.call(server, req, res);
    });
  }
}

/**
 * The data plane the plugin registers with. The default is a dispatcher no
 * server is attached to; `createMlPlatformRootHttpRouter` provides one that is.
 *
 * @public
 */
export const mlPlatformDataPlaneServiceRef =
  createServiceRef<MlPlatformDataPlaneService>({
    id: 'ml-platform.data-plane',
    scope: 'root',
    defaultFactory: async service =>
      createServiceFactory({
        service,
        deps: {},
        factory: () => new DataPlaneDispatcher(),
      }),
  });
