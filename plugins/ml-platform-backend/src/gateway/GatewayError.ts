/** A failed call, with the status and message the caller gets. */
export class GatewayError extends Error {
  name = 'GatewayError';

  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Statuses of the errors the gateway and the auth service throw. */
const STATUS_BY_ERROR_NAME: Record<string, number> = {
  InputError: 400,
  AuthenticationError: 401,
  NotAllowedError: 403,
  NotFoundError: 404,
  ConflictError: 409,
  PayloadTooLargeError: 413,
  UnsupportedMediaTypeError: 415,
  RequestTimeoutError: 408,
  ServiceUnavailableError: 503,
};

/** The HTTP status a failed invocation answers, or undefined (a 500). */
export function statusOfError(error: unknown): number | undefined {
  if (error instanceof GatewayError) return error.status;
  return error instanceof Error ? STATUS_BY_ERROR_NAME[error.name] : undefined;
}
