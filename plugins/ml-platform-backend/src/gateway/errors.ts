import { CustomErrorBase } from '@backstage/errors';

/** 504: the model did not answer in time. */
export class GatewayTimeoutError extends CustomErrorBase {
  name = 'GatewayTimeoutError' as const;
  readonly statusCode = 504;
}

/**
 * The status of each error an invocation may end with: `@backstage/errors`
 * by name (as Backstage's error handler answers them), and those with their
 * own `statusCode`.
 */
const STATUS_BY_ERROR_NAME: Record<string, number> = {
  InputError: 400,
  AuthenticationError: 401,
  NotAllowedError: 403,
  NotFoundError: 404,
  ConflictError: 409,
  PayloadTooLargeError: 413,
  ServiceUnavailableError: 503,
};

/** The HTTP status an error is answered with (500 when unknown). */
export function statusOf(error: unknown): number {
  const { name, statusCode } = (error ?? {}) as {
    name?: string;
    statusCode?: unknown;
  };
  if (typeof statusCode === 'number') return statusCode;
  return (name && STATUS_BY_ERROR_NAME[name]) || 500;
}
