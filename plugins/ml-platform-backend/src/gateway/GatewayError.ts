/** A failed call, with the status and message the caller gets. */
export class GatewayError extends Error {
  name = 'GatewayError';

  constructor(readonly status: number, message: string) {
    super(message);
  }
}
