import { Pool, errors as undiciErrors } from 'undici';
import { GatewayTimeoutError } from './errors';

/** A replica's answer, read whole. */
export interface ReplicaResponse {
  status: number;
  body: Buffer;
}

/** Errors where the request never reached a model, or its connection died: retry elsewhere. */
const RETRYABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
]);

/** Whether `error` from `send` means another replica may be tried. */
export function isRetryable(error: unknown): boolean {
  return RETRYABLE.has((error as NodeJS.ErrnoException)?.code ?? '');
}

const REQUEST_HEADERS = { 'content-type': 'application/json' };

/** How many replicas' connection pools are kept; the oldest close first. */
const MAX_POOLS = 256;

/**
 * Sends invocations to replicas over keep-alive connections, one pool per
 * replica URL. undici rather than `http.request`: the gateway's own CPU per
 * call is what it adds to a model's latency and takes from its throughput.
 */
export class ReplicaClient {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly timeoutMs: number) {}

  send(baseUrl: string, path: string, body: Buffer): Promise<ReplicaResponse> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let status = 502;
      // The dispatcher's callbacks rather than a response stream: the body
      // is small and read whole, so a stream per call is only overhead.
      this.pool(baseUrl).dispatch(
        {
          method: 'POST',
          path,
          body,
          headers: REQUEST_HEADERS,
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
        },
        {
          onRequestStart() {},
          onResponseStart(_controller, statusCode) {
            status = statusCode;
          },
          onResponseData(_controller, chunk) {
            chunks.push(chunk);
          },
          onResponseEnd() {
            resolve({ status, body: Buffer.concat(chunks) });
          },
          onResponseError: (_controller, error) => {
            reject(this.describe(error));
          },
        },
      );
    });
  }

  private describe(error: Error): Error {
    if (
      error instanceof undiciErrors.HeadersTimeoutError ||
      error instanceof undiciErrors.BodyTimeoutError
    ) {
      return new GatewayTimeoutError(
        `The model did not answer within ${this.timeoutMs / 1000} s`,
      );
    }
    return error;
  }

  async close() {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map(pool => pool.destroy()));
  }

  private pool(baseUrl: string): Pool {
    let pool = this.pools.get(baseUrl);
    if (!pool) {
      if (this.pools.size >= MAX_POOLS) {
        const [oldest, oldestPool] = this.pools.entries().next().value!;
        this.pools.delete(oldest);
        void oldestPool.close();
      }
      pool = new Pool(baseUrl, { connections: 256, pipelining: 1 });
      this.pools.set(baseUrl, pool);
    }
    return pool;
  }
}
