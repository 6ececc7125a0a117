import net from 'node:net';
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

/** How many replicas' connection pools are kept; the oldest close first. */
const MAX_POOLS = 256;
/** Connections per replica; calls beyond wait for one to be free. */
const MAX_CONNECTIONS = 256;
/** Largest answer read; a model answering more is failing. */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

const CRLF_CRLF = Buffer.from('\r\n\r\n');

/** A connection closed or broke before the whole answer came. */
function socketError(message: string, code = 'UND_ERR_SOCKET') {
  return Object.assign(new Error(message), { code });
}

/** One call under way on a connection. */
interface Exchange {
  resolve(response: ReplicaResponse): void;
  reject(error: Error): void;
  /** Epoch milliseconds after which the call times out. */
  deadline: number;
}

/**
 * Reads one HTTP/1.1 response at a time from a kept-alive connection:
 * status line and headers, then a Content-Length, chunked or
 * close-delimited body.
 */
class ResponseReader {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private head?: {
    status: number;
    length?: number;
    chunked: boolean;
    close: boolean;
  };
  private body: Buffer[] = [];
  private bodyBytes = 0;
  /** Chunked bodies: bytes left of the current chunk, and where we are. */
  private chunkLeft = 0;
  private chunkState: 'size' | 'data' | 'data-crlf' | 'trailer' = 'size';

  /**
   * Feeds bytes in; returns the response once complete (with whether the
   * connection may be reused), else undefined.
   */
  push(
    received: Buffer,
  ): { response: ReplicaResponse; keepAlive: boolean } | undefined {
    let data = received;
    if (!this.head) {
      this.buffered.push(data);
      this.bufferedBytes += data.length;
      const all =
        this.buffered.length === 1
          ? this.buffered[0]
          : Buffer.concat(this.buffered, this.bufferedBytes);
      const end = all.indexOf(CRLF_CRLF);
      if (end < 0) {
        this.buffered = [all];
        if (this.bufferedBytes > 64 * 1024) {
          throw socketError('The replica sent headers over 64 KiB');
        }
        return undefined;
      }
      this.head = parseHead(all.toString('latin1', 0, end));
      this.buffered = [];
      this.bufferedBytes = 0;
      data = all.subarray(end + 4);
      if (this.head.status >= 100 && this.head.status < 200) {
        // An interim answer (100 Continue): the real one follows.
        this.head = undefined;
        return data.length ? this.push(data) : undefined;
      }
      if (
        this.head.status === 204 ||
        this.head.status === 304 ||
        (!this.head.chunked &&
          this.head.length === undefined &&
          !this.head.close)
      ) {
        this.head.length ??= 0;
      }
    }
    return this.head.chunked ? this.pushChunked(data) : this.pushPlain(data);
  }

  /** The connection ended: a close-delimited body is complete. */
  end(): ReplicaResponse | undefined {
    if (this.head && this.head.length === undefined && !this.head.chunked) {
      return this.done().response;
    }
    return undefined;
  }

  private pushPlain(received: Buffer) {
    const head = this.head!;
    // Bytes past the announced length are not this answer's.
    const data =
      head.length !== undefined &&
      received.length > head.length - this.bodyBytes
        ? received.subarray(0, head.length - this.bodyBytes)
        : received;
    if (data.length) this.addBody(data);
    return head.length !== undefined && this.bodyBytes >= head.length
      ? this.done()
      : undefined;
  }

  private pushChunked(received: Buffer) {
    let data = received;
    let at = 0;
    while (at < data.length) {
      if (this.chunkState === 'data') {
        const take = Math.min(this.chunkLeft, data.length - at);
        this.addBody(data.subarray(at, at + take));
        at += take;
        this.chunkLeft -= take;
        if (this.chunkLeft === 0) this.chunkState = 'data-crlf';
        continue;
      }
      // Line-oriented parts: a size line, the CRLF after data, trailers.
      const pending = Buffer.concat([...this.buffered, data.subarray(at)]);
      const eol = pending.indexOf('\r\n');
      if (eol < 0) {
        this.buffered = [pending];
        return undefined;
      }
      this.buffered = [];
      const line = pending.toString('latin1', 0, eol);
      data = pending.subarray(eol + 2);
      at = 0;
      if (this.chunkState === 'data-crlf') {
        this.chunkState = 'size';
      } else if (this.chunkState === 'size') {
        const size = parseInt(line, 16);
        if (!Number.isFinite(size) || size < 0) {
          throw socketError(`The replica sent a bad chunk size: ${line}`);
        }
        if (size === 0) this.chunkState = 'trailer';
        else {
          this.chunkLeft = size;
          this.chunkState = 'data';
        }
      } else if (line === '') {
        return this.done();
      }
    }
    return undefined;
  }

  private addBody(data: Buffer) {
    this.bodyBytes += data.length;
    if (this.bodyBytes > MAX_RESPONSE_BYTES) {
      throw socketError('The replica answered more than 256 MiB');
    }
    this.body.push(data);
  }

  private done() {
    const head = this.head!;
    const response = {
      status: head.status,
      body:
        this.body.length === 1
          ? this.body[0]
          : Buffer.concat(this.body, this.bodyBytes),
    };
    this.head = undefined;
    this.body = [];
    this.bodyBytes = 0;
    this.chunkState = 'size';
    return { response, keepAlive: !head.close };
  }
}

function parseHead(text: string) {
  const lines = text.split('\r\n');
  const statusLine = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0]);
  if (!statusLine) {
    throw socketError(`The replica answered no HTTP: ${lines[0].slice(0, 80)}`);
  }
  let length: number | undefined;
  let chunked = false;
  let close = statusLine[1] === '0';
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') length = Number(value);
    else if (name === 'transfer-encoding') {
      chunked = value.toLowerCase().includes('chunked');
    } else if (name === 'connection') {
      const v = value.toLowerCase();
      if (v.includes('close')) close = true;
      else if (v.includes('keep-alive')) close = false;
    }
  }
  if (length !== undefined && !(Number.isInteger(length) && length >= 0)) {
    throw socketError('The replica sent a bad Content-Length');
  }
  return {
    status: Number(statusLine[2]),
    length: chunked ? undefined : length,
    chunked,
    close,
  };
}

/** A kept-alive connection to a replica: one call at a time. */
class Connection {
  exchange?: Exchange;
  private readonly reader = new ResponseReader();
  closed = false;

  constructor(
    readonly socket: net.Socket,
    private readonly onIdle: (connection: Connection) => void,
    private readonly onClosed: (connection: Connection) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('end', () => this.onEnd());
    socket.on('error', error => this.fail(error));
    socket.on('close', () => {
      this.closed = true;
      this.fail(socketError('The replica closed the connection', 'ECONNRESET'));
      this.onClosed(this);
    });
  }

  send(request: Buffer, exchange: Exchange) {
    this.exchange = exchange;
    this.socket.write(request);
  }

  destroy() {
    this.closed = true;
    this.socket.destroy();
  }

  private onData(data: Buffer) {
    if (!this.exchange) {
      // Bytes nobody asked for: the connection is out of step.
      this.destroy();
      return;
    }
    let complete;
    try {
      complete = this.reader.push(data);
    } catch (error) {
      this.fail(error as Error);
      this.destroy();
      return;
    }
    if (!complete) return;
    const exchange = this.exchange;
    this.exchange = undefined;
    if (complete.keepAlive) this.onIdle(this);
    else this.destroy();
    exchange.resolve(complete.response);
  }

  private onEnd() {
    const response = this.exchange && this.reader.end();
    if (response) {
      const exchange = this.exchange!;
      this.exchange = undefined;
      exchange.resolve(response);
    }
    this.destroy();
  }

  fail(error: Error) {
    const exchange = this.exchange;
    if (!exchange) return;
    this.exchange = undefined;
    exchange.reject(error);
  }
}

/** The connections to one replica. */
class Pool {
  private readonly idle: Connection[] = [];
  private readonly waiting: (() => void)[] = [];
  private open = 0;
  /** For the Host header: name and port. */
  readonly host: string;
  private readonly hostname: string;
  private readonly port: number;

  constructor(baseUrl: string) {
    const url = new URL(baseUrl);
    if (url.protocol !== 'http:') {
      throw new Error(`Replica URLs must be http://, got ${baseUrl}`);
    }
    this.host = url.host;
    this.hostname = url.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(url.port || 80);
  }

  /** An idle connection, if there is one: the usual case, no waiting. */
  takeIdle(): Connection | undefined {
    for (;;) {
      const idle = this.idle.pop();
      if (!idle || !idle.closed) return idle;
    }
  }

  /** A connection to send on: an idle one, a new one, or the next freed. */
  async acquire(): Promise<Connection> {
    const idle = this.takeIdle();
    if (idle) return idle;
    if (this.open >= MAX_CONNECTIONS) {
      await new Promise<void>(resolve => this.waiting.push(resolve));
      return this.acquire();
    }
    this.open++;
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.port, this.hostname);
      const onError = (error: Error) => {
        this.open--;
        this.wakeOne();
        reject(error);
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        resolve(
          new Connection(
            socket,
            c => this.release(c),
            c => this.forget(c),
          ),
        );
      });
    });
  }

  close() {
    for (const c of this.idle.splice(0)) c.destroy();
  }

  private release(connection: Connection) {
    this.idle.push(connection);
    this.wakeOne();
  }

  private forget(connection: Connection) {
    this.open--;
    const i = this.idle.indexOf(connection);
    if (i >= 0) this.idle.splice(i, 1);
    this.wakeOne();
  }

  private wakeOne() {
    this.waiting.shift()?.();
  }
}

/**
 * Sends invocations to replicas over kept-alive HTTP/1.1 connections, one
 * pool per replica URL. A small client of its own rather than a general
 * one: the gateway's CPU per call is what it adds to a model's latency and
 * takes from its throughput, and a call here is one write of the request
 * and one parse of a status line, a few headers and a body.
 */
export class ReplicaClient {
  private readonly pools = new Map<string, Pool>();
  /** Connections with a call under way, checked for timeouts. */
  private readonly busy = new Set<Connection>();
  private sweeper?: NodeJS.Timeout;

  constructor(private readonly timeoutMs: number) {}

  async send(
    baseUrl: string,
    path: string,
    body: Buffer,
  ): Promise<ReplicaResponse> {
    const pool = this.pool(baseUrl);
    const connection = pool.takeIdle() ?? (await pool.acquire());
    const head = `POST ${path} HTTP/1.1\r\nHost: ${pool.host}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    return new Promise((resolve, reject) => {
      const done = () => this.busy.delete(connection);
      const exchange: Exchange = {
        resolve: response => {
          done();
          resolve(response);
        },
        reject: error => {
          done();
          reject(error);
        },
        deadline: Date.now() + this.timeoutMs,
      };
      this.busy.add(connection);
      this.sweep();
      if (body.length < 16 * 1024) {
        connection.send(
          Buffer.concat([Buffer.from(head, 'latin1'), body]),
          exchange,
        );
      } else {
        // A large body goes as it is, after the head, in one write (cork).
        connection.socket.cork();
        connection.send(Buffer.from(head, 'latin1'), exchange);
        connection.socket.write(body);
        process.nextTick(() => connection.socket.uncork());
      }
    });
  }

  /**
   * Times out calls past their deadline. One timer for every call instead
   * of one per call: a timer set and cleared per call costs more than the
   * rest of this client. Runs while calls are under way.
   */
  private sweep() {
    if (this.sweeper) return;
    const every = Math.min(1000, Math.max(10, this.timeoutMs / 4));
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const connection of this.busy) {
        const exchange = connection.exchange;
        if (!exchange) {
          this.busy.delete(connection);
        } else if (exchange.deadline <= now) {
          connection.fail(
            new GatewayTimeoutError(
              `The model did not answer within ${this.timeoutMs / 1000} s`,
            ),
          );
          connection.destroy();
        }
      }
      if (this.busy.size === 0) {
        clearInterval(this.sweeper);
        this.sweeper = undefined;
      }
    }, every);
    this.sweeper.unref();
  }

  async close() {
    for (const pool of this.pools.values()) pool.close();
    this.pools.clear();
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private pool(baseUrl: string): Pool {
    let pool = this.pools.get(baseUrl);
    if (!pool) {
      if (this.pools.size >= MAX_POOLS) {
        const [oldest, oldestPool] = this.pools.entries().next().value!;
        this.pools.delete(oldest);
        oldestPool.close();
      }
      pool = new Pool(baseUrl);
      this.pools.set(baseUrl, pool);
    }
    return pool;
  }
}
