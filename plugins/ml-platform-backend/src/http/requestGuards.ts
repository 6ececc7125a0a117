import { KubernetesValidatorFunctions } from '@backstage/catalog-model';
import { CustomErrorBase, InputError } from '@backstage/errors';
import type { NextFunction, Request, Response } from 'express';
import type { IncomingMessage } from 'node:http';

/**
 * Checks every request passes before any work: the body's media type, how
 * long the body takes to arrive, path segments, path parameters. Each
 * failure is a 4xx whose message names what is wrong.
 */

/** 415: a JSON route got another media type. */
export class UnsupportedMediaTypeError extends CustomErrorBase {
  name = 'UnsupportedMediaTypeError' as const;
  readonly statusCode = 415;
}

/** 408: the body did not arrive in time. */
export class RequestTimeoutError extends CustomErrorBase {
  name = 'RequestTimeoutError' as const;
  readonly statusCode = 408;
}

/** Whether the request carries a body (a length over 0, or chunks). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (
    req.headers['transfer-encoding'] !== undefined ||
    (length !== undefined && length !== '0')
  );
}

/** `application/json` or a `+json` type, parameters (charset) aside. */
export function isJsonMediaType(header: string | undefined): boolean {
  const type = (header ?? '').split(';')[0].trim().toLowerCase();
  return (
    type === 'application/json' || /^application\/[\w.+-]+\+json$/.test(type)
  );
}

/** Throws the 415 unless a request with a body says it is JSON. */
export function assertJsonBody(req: IncomingMessage): void {
  if (hasBody(req) && !isJsonMediaType(req.headers['content-type'])) {
    throw new UnsupportedMediaTypeError(
      `body: expected Content-Type application/json, got ${
        req.headers['content-type']
          ? `"${String(req.headers['content-type']).slice(0, 100)}"`
          : 'none'
      }`,
    );
  }
}

/** Express middleware: {@link assertJsonBody} for methods with bodies. */
export function requireJsonBodies() {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (
      req.method === 'POST' ||
      req.method === 'PUT' ||
      req.method === 'PATCH'
    ) {
      assertJsonBody(req);
    }
    next();
  };
}

function timeoutMessage(timeoutMs: number, idle: boolean) {
  return `body: ${
    idle
      ? 'no data of the request body arrived for'
      : 'the request body did not arrive within'
  } ${Math.round(timeoutMs / 1000)} s (mlPlatform.gateway.timeout)`;
}

/**
 * Express middleware: a request body that has not arrived within
 * `timeoutMs` (`total`), or that stalls that long (`idle`, for uploads that
 * may take long but keep moving), gets a 408 and its connection is closed.
 * It watches the socket's byte count, never the body stream itself: the
 * route reads that.
 */
export function bodyTimeout(timeoutMs: number, mode: 'total' | 'idle') {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!hasBody(req) || req.complete) {
      next();
      return;
    }
    const answer = () => {
      const error = new RequestTimeoutError(
        timeoutMessage(timeoutMs, mode === 'idle'),
      );
      if (res.headersSent) {
        req.destroy();
        return;
      }
      res.setHeader('Connection', 'close');
      res.status(408).json({
        error: { name: error.name, message: error.message },
        request: { method: req.method, url: req.originalUrl },
        response: { statusCode: 408 },
      });
      res.once('finish', () => req.destroy());
    };
    let bytesRead = req.socket.bytesRead;
    let timer: NodeJS.Timeout;
    const check = () => {
      if (req.complete) return;
      if (mode === 'idle' && req.socket.bytesRead !== bytesRead) {
        bytesRead = req.socket.bytesRead;
        timer = setTimeout(check, timeoutMs);
        return;
      }
      answer();
    };
    timer = setTimeout(check, timeoutMs);
    const done = () => clearTimeout(timer);
    req.once('end', done);
    req.once('close', done);
    res.once('finish', done);
    next();
  };
}

/**
 * Reads a plain Node request body up to `limit` bytes within `timeoutMs`;
 * rejects with a 413 (`tooLarge()`) or a 408.
 */
export function readBodyWithin(
  req: IncomingMessage,
  options: { limit: number; timeoutMs: number; tooLarge: () => Error },
): Promise<Buffer> {
  const { limit, tooLarge } = options;
  if (Number(req.headers['content-length'] ?? 0) > limit) {
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let timer: NodeJS.Timeout | undefined = undefined;
    const stop = (error: Error) => {
      clearTimeout(timer);
      req.removeAllListeners('data');
      reject(error);
    };
    timer = setTimeout(
      () =>
        stop(new RequestTimeoutError(timeoutMessage(options.timeoutMs, false))),
      options.timeoutMs,
    );
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stop(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks, size));
    });
    req.on('error', stop);
  });
}

/**
 * Throws unless no segment of `path` is `.` or `..` (decoded too): such a
 * path must never reach a route, let alone the catalog.
 */
export function assertNoDotSegments(path: string): void {
  for (const segment of path.split('?')[0].split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw new InputError('path: malformed percent-encoding');
    }
    if (decoded.split(/[/\\]/).some(part => part === '.' || part === '..')) {
      throw new InputError('path: "." and ".." segments are not allowed');
    }
  }
}

/** Express middleware: {@link assertNoDotSegments} on the request's path. */
export function rejectDotSegments() {
  return (req: Request, _res: Response, next: NextFunction) => {
    assertNoDotSegments(req.originalUrl ?? req.url);
    next();
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What is wrong with a path parameter, or undefined. */
export function pathParameterProblem(
  name: string,
  value: string,
): string | undefined {
  switch (name) {
    case 'namespace':
      return KubernetesValidatorFunctions.isValidNamespace(value)
        ? undefined
        : 'expected a catalog namespace (lower-case letters, digits and -, at most 63)';
    case 'name':
      return KubernetesValidatorFunctions.isValidObjectName(value)
        ? undefined
        : 'expected an entity name (letters, digits, -, _ and ., at most 63)';
    case 'id':
      return UUID.test(value) ? undefined : 'expected a UUID';
    default:
      return undefined;
  }
}

/** Throws an InputError naming `path.<name>` for a bad path parameter. */
export function assertPathParameter(name: string, value: string): void {
  const problem = pathParameterProblem(name, value);
  if (problem) throw new InputError(`path.${name}: ${problem}`);
}
