import {
  BackstageCredentials,
  HttpAuthService,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { DataPlaneHandler } from '@internal/plugin-ml-platform-node';
import type { Request } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  assertJsonBody,
  assertPathParameter,
  readBodyWithin,
} from '../http/requestGuards';
import { Gateway } from './Gateway';
import { statusOf } from './errors';
import {
  InvocationLimits,
  checkRecordsRequest,
  checkV2Request,
} from './invocationLimits';
import { errorMeta } from '../util/logging';

/** Which invocation a request is, from its path. */
export type InvocationRoute =
  | { protocol: 'v2'; name: string }
  | { protocol: 'records'; namespace: string; name: string };

/** The two invocation paths, as mounted under the plugin's base path. */
const INVOCATION_PATH =
  /^\/api\/ml-platform\/(?:v2\/models\/([^/?]+)\/infer|models\/([^/?]+)\/([^/?]+)\/predict)(?:\?|$)/;

const VERIFIED_TOKEN_TTL_MS = 10_000;
const VERIFIED_TOKENS_MAX = 10_000;

class PayloadTooLargeError extends Error {
  name = 'PayloadTooLargeError';
}

export interface InvocationRoutesOptions {
  httpAuth: HttpAuthService;
  gateway: Gateway;
  logger: LoggerService;
  /** Largest request body the gateway forwards. */
  maxBodyBytes: number;
  /** The body must have arrived within this (`mlPlatform.gateway.timeout`). */
  bodyTimeoutMs: number;
  /** Checked before a body is forwarded. */
  limits: InvocationLimits;
}

/**
 * `POST v2/models/{name}/infer` and `POST models/{ns}/{name}/predict`: one
 * implementation on plain Node requests, served both by the plugin's router
 * and, ahead of the portal's HTTP stack, by the data plane. It authenticates
 * the caller itself (users and services), reads the body up to the limit,
 * and writes the model's answer as it came.
 */
export class InvocationRoutes implements DataPlaneHandler {
  private readonly verified = new Map<
    string,
    { credentials: BackstageCredentials; until: number }
  >();

  constructor(private readonly options: InvocationRoutesOptions) {}

  /** The route of a request to the backend's root, if it is an invocation. */
  static parse(
    method: string | undefined,
    url: string | undefined,
  ): InvocationRoute | undefined {
    if (method !== 'POST' || !url) return undefined;
    const match = INVOCATION_PATH.exec(url);
    if (!match) return undefined;
    try {
      return match[1] !== undefined
        ? { protocol: 'v2', name: decodeURIComponent(match[1]) }
        : {
            protocol: 'records',
            namespace: decodeURIComponent(match[2]),
            name: decodeURIComponent(match[3]),
          };
    } catch {
      return undefined; // a malformed escape: the router answers it
    }
  }

  match(req: IncomingMessage) {
    const route = InvocationRoutes.parse(req.method, req.url);
    return route
      ? (r: IncomingMessage, res: ServerResponse) =>
          void this.serve(route, r, res)
      : undefined;
  }

  /** Answers one invocation; never rejects, every failure is a response. */
  async serve(
    route: InvocationRoute,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const { gateway } = this.options;
    try {
      const credentials = await this.authenticate(req);
      if (route.protocol === 'records') {
        assertPathParameter('namespace', route.namespace);
      }
      assertPathParameter('name', route.name);
      // Checked before anything is forwarded or allocated for it.
      const body = async () => {
        assertJsonBody(req);
        const bytes = await this.readBody(req);
        const json =
          route.protocol === 'v2'
            ? checkV2Request(bytes, this.options.limits)
            : checkRecordsRequest(bytes, this.options.limits);
        return { bytes, json };
      };
      const upstream =
        route.protocol === 'v2'
          ? await gateway.inferV2(route.name, body, credentials)
          : await gateway.predict(route, body, credentials);
      // The model's JSON as it came: no re-serialisation, no ETag.
      res.writeHead(upstream.status, {
        'Content-Type': 'application/json',
        'Content-Length': upstream.body.length,
      });
      res.end(upstream.body);
    } catch (error) {
      this.fail(req, res, error);
    }
  }

  /**
   * The caller's credentials, from the auth service or, for a few seconds
   * and never past the token's expiry, from the last time it checked the
   * same Authorization header: verifying a token costs more than a small
   * prediction. Refused tokens are not remembered.
   */
  private async authenticate(
    req: IncomingMessage,
  ): Promise<BackstageCredentials> {
    const header = req.headers.authorization;
    const now = Date.now();
    const known = header && this.verified.get(header);
    if (known && known.until > now) return known.credentials;
    // The auth service reads only the headers of the request.
    const credentials = await this.options.httpAuth.credentials(
      req as Request,
      { allow: ['user', 'service'] },
    );
    if (header) {
      if (this.verified.size >= VERIFIED_TOKENS_MAX) this.verified.clear();
      this.verified.set(header, {
        credentials,
        until: Math.min(
          now + VERIFIED_TOKEN_TTL_MS,
          credentials.expiresAt?.getTime() ?? Infinity,
        ),
      });
    }
    return credentials;
  }

  private readBody(req: IncomingMessage): Promise<Buffer> {
    const limit = this.options.maxBodyBytes;
    return readBodyWithin(req, {
      limit,
      timeoutMs: this.options.bodyTimeoutMs,
      tooLarge: () =>
        new PayloadTooLargeError(`Request body is larger than ${limit} bytes`),
    });
  }

  /** Errors in the shape of Backstage's error handler, so clients parse them alike. */
  fail(req: IncomingMessage, res: ServerResponse, error: unknown) {
    const { name, message } =
      error instanceof Error ? error : new Error(String(error));
    const statusCode = statusOf(error);
    // A body not read to its end is not drained: the connection ends.
    const unread = !req.complete;
    if (statusCode === 500) {
      this.options.logger.error('invocation failed', {
        method: req.method ?? '',
        url: req.url ?? '',
        ...errorMeta(error),
      });
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = JSON.stringify({
      error: { name, message },
      request: { method: req.method, url: req.url },
      response: { statusCode },
    });
    res.writeHead(statusCode, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      ...(unread ? { Connection: 'close' } : {}),
    });
    res.end(body);
    if (unread) res.once('finish', () => req.destroy());
  }
}
