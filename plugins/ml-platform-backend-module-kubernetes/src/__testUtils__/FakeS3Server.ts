import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

interface StoredObject {
  body: Buffer;
  contentType?: string;
  metadata: Record<string, string>;
  etag: string;
  lastModified: Date;
}

function xmlError(
  code: string,
  message: string,
  extra: Record<string, string>,
) {
  const fields = Object.entries(extra)
    .map(([k, v]) => `<${k}>${v}</${k}>`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>${fields}<RequestId>${randomUUID()}</RequestId></Error>`;
}

/**
 * Decodes an `aws-chunked` body, as the AWS SDK streams uploads: chunks of
 * `<hex size>[;chunk-signature=...]\r\n<data>\r\n`, a zero-size chunk, then
 * trailing headers (such as `x-amz-checksum-crc32`).
 */
export function decodeAwsChunked(raw: Buffer): {
  body: Buffer;
  trailers: Record<string, string>;
} {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const end = raw.indexOf('\r\n', offset);
    if (end < 0) throw new Error('aws-chunked: missing chunk header');
    const size = parseInt(
      raw.subarray(offset, end).toString().split(';')[0],
      16,
    );
    offset = end + 2;
    if (size === 0) break;
    parts.push(raw.subarray(offset, offset + size));
    offset += size + 2;
  }
  const trailers: Record<string, string> = {};
  for (const line of raw.subarray(offset).toString().split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0)
      trailers[line.slice(0, colon).toLowerCase()] = line
        .slice(colon + 1)
        .trim();
  }
  return { body: Buffer.concat(parts), trailers };
}

function crc32Base64(body: Buffer): string {
  const value = (zlib as unknown as { crc32(b: Buffer): number }).crc32(body);
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out.toString('base64');
}

/**
 * An S3-compatible server for the operations the S3 artifact store uses,
 * path-style (`/<bucket>/<key>`, as MinIO is addressed): PutObject (plain
 * or `aws-chunked` bodies, with the CRC32 or SHA-256 the SDK sends checked),
 * GetObject, HeadObject and DeleteObject, `x-amz-meta-*` metadata, and S3's
 * XML errors (`NoSuchKey`, `NoSuchBucket`, `BadDigest`, `AccessDenied`).
 * Requests must carry a SigV4 Authorization header for the configured
 * access key; the signature itself is not recomputed.
 */
export class FakeS3Server {
  private readonly buckets = new Map<string, Map<string, StoredObject>>();
  /** Every request's method, path and body encoding. */
  readonly requests: Array<{
    method: string;
    path: string;
    encoding?: string;
  }> = [];

  private constructor(
    private readonly server: http.Server,
    readonly accessKeyId: string,
  ) {}

  static async start(options: { buckets: string[]; accessKeyId?: string }) {
    const server = http.createServer();
    const s3 = new FakeS3Server(
      server,
      options.accessKeyId ?? 'fake-access-key',
    );
    for (const bucket of options.buckets) s3.buckets.set(bucket, new Map());
    server.on('request', (req, res) => void s3.handle(req, res));
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    return s3;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The keys stored in a bucket. */
  keys(bucket: string): string[] {
    return [...(this.buckets.get(bucket)?.keys() ?? [])].sort();
  }

  object(bucket: string, key: string): StoredObject | undefined {
    return this.buckets.get(bucket)?.get(key);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise(resolve => this.server.close(resolve));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url!, 'http://s3');
    this.requests.push({
      method: req.method!,
      path: url.pathname,
      encoding: req.headers['content-encoding'],
    });
    const [, bucketName, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const fail = (status: number, code: string, message: string) => {
      res.writeHead(status, { 'Content-Type': 'application/xml' });
      res.end(
        req.method === 'HEAD'
          ? undefined
          : xmlError(code, message, { Key: key, BucketName: bucketName }),
      );
    };
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);

    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith(`AWS4-HMAC-SHA256 Credential=${this.accessKeyId}/`)) {
      fail(403, 'AccessDenied', 'Access Denied');
      return;
    }
    const bucket = this.buckets.get(bucketName);
    if (!bucket) {
      fail(404, 'NoSuchBucket', 'The specified bucket does not exist');
      return;
    }
    if (!key) {
      fail(501, 'NotImplemented', 'Only object operations are implemented');
      return;
    }

    if (req.method === 'PUT') {
      let body: Buffer = raw;
      const sha = String(req.headers['x-amz-content-sha256'] ?? '');
      const encoding = String(req.headers['content-encoding'] ?? '');
      if (encoding.includes('aws-chunked') || sha.startsWith('STREAMING-')) {
        const decoded = decodeAwsChunked(raw);
        body = decoded.body;
        const declared = Number(req.headers['x-amz-decoded-content-length']);
        if (!Number.isNaN(declared) && declared !== body.length) {
          fail(
            400,
            'IncompleteBody',
            'You did not provide the number of bytes specified by the Content-Length HTTP header',
          );
          return;
        }
        const crc = decoded.trailers['x-amz-checksum-crc32'];
        if (crc && crc !== crc32Base64(body)) {
          fail(
            400,
            'BadDigest',
            'The CRC32 you specified did not match the calculated checksum.',
          );
          return;
        }
      } else if (/^[0-9a-f]{64}$/.test(sha)) {
        if (createHash('sha256').update(body).digest('hex') !== sha) {
          fail(
            400,
            'XAmzContentSHA256Mismatch',
            'The provided x-amz-content-sha256 header does not match what was computed.',
          );
          return;
        }
      }
      const crcHeader = req.headers['x-amz-checksum-crc32'];
      if (typeof crcHeader === 'string' && crcHeader !== crc32Base64(body)) {
        fail(
          400,
          'BadDigest',
          'The CRC32 you specified did not match the calculated checksum.',
        );
        return;
      }
      const metadata = Object.fromEntries(
        Object.entries(req.headers)
          .filter(([h]) => h.startsWith('x-amz-meta-'))
          .map(([h, v]) => [h.slice('x-amz-meta-'.length), String(v)]),
      );
      const etag = `"${createHash('md5').update(body).digest('hex')}"`;
      bucket.set(key, {
        body,
        contentType: req.headers['content-type'],
        metadata,
        etag,
        lastModified: new Date(),
      });
      res.writeHead(200, { ETag: etag });
      res.end();
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      const object = bucket.get(key);
      if (!object) {
        fail(404, 'NoSuchKey', 'The specified key does not exist.');
        return;
      }
      res.writeHead(200, {
        'Content-Type': object.contentType ?? 'binary/octet-stream',
        'Content-Length': object.body.length,
        ETag: object.etag,
        'Last-Modified': object.lastModified.toUTCString(),
        ...Object.fromEntries(
          Object.entries(object.metadata).map(([k, v]) => [
            `x-amz-meta-${k}`,
            v,
          ]),
        ),
      });
      res.end(req.method === 'GET' ? object.body : undefined);
      return;
    }
    if (req.method === 'DELETE') {
      bucket.delete(key);
      res.writeHead(204);
      res.end();
      return;
    }
    fail(
      405,
      'MethodNotAllowed',
      'The specified method is not allowed against this resource.',
    );
  }
}
