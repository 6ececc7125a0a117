import { InputError, NotAllowedError } from '@backstage/errors';
import {
  ArtifactLink,
  ArtifactLinks,
  ArtifactStore,
} from '@internal/plugin-ml-platform-node';
import type { Request, Response } from 'express';
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArtifactTokens } from './ArtifactTokens';

const DIGEST = /^sha256:[0-9a-f]{64}$/;

function bearer(req: Request): string | undefined {
  const header = req.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
}

/**
 * `GET artifacts/{digest}` and `POST artifacts`: the artifact store as a
 * runtime on another host sees it, through tokens scoped to one artifact
 * (see {@link ArtifactTokens}); also the {@link ArtifactLinks} that issue
 * them.
 */
export class ArtifactRoutes implements ArtifactLinks {
  constructor(
    private readonly options: {
      store: ArtifactStore;
      tokens: ArtifactTokens;
      /** The plugin's base URL as runtimes reach it. */
      baseUrl: () => Promise<string>;
      defaultTtlMs: number;
      /** Where uploads are written before the store takes them. */
      tmpDir: string;
      maxUploadBytes: number;
    },
  ) {}

  async download(
    artifact: { uri: string; digest: string },
    options: { ttlMs?: number } = {},
  ): Promise<ArtifactLink> {
    if (!DIGEST.test(artifact.digest)) {
      throw new InputError(`Not a sha256 digest: ${artifact.digest}`);
    }
    const { token, expiresAt } = await this.options.tokens.issue(
      { scope: 'read', digest: artifact.digest, uri: artifact.uri },
      options.ttlMs ?? this.options.defaultTtlMs,
    );
    const base = await this.options.baseUrl();
    return { url: `${base}/artifacts/${artifact.digest}`, token, expiresAt };
  }

  async upload(
    key: string,
    options: { ttlMs?: number } = {},
  ): Promise<ArtifactLink> {
    const { token, expiresAt } = await this.options.tokens.issue(
      { scope: 'write', key },
      options.ttlMs ?? this.options.defaultTtlMs,
    );
    const base = await this.options.baseUrl();
    return { url: `${base}/artifacts`, token, expiresAt };
  }

  /** `GET artifacts/{digest}`: the bytes, for a token scoped to that digest. */
  async serveDownload(req: Request, res: Response): Promise<void> {
    const grant = await this.options.tokens.verify(bearer(req));
    if (grant.scope !== 'read' || grant.digest !== req.params.digest) {
      throw new NotAllowedError('The token is for another artifact');
    }
    const stream = await this.options.store.read(grant.uri);
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('X-Artifact-Digest', grant.digest);
    await pipeline(stream, res);
  }

  /** `POST artifacts`: stores the body under the token's key. */
  async serveUpload(req: Request, res: Response): Promise<void> {
    const grant = await this.options.tokens.verify(bearer(req));
    if (grant.scope !== 'write') {
      throw new NotAllowedError('The token does not allow uploads');
    }
    const { maxUploadBytes, tmpDir } = this.options;
    await fs.promises.mkdir(tmpDir, { recursive: true });
    const file = path.join(tmpDir, `upload-${randomUUID()}`);
    const hash = createHash('sha256');
    let size = 0;
    try {
      await pipeline(
        req,
        new Transform({
          transform(chunk: Buffer, _encoding, done) {
            size += chunk.length;
            if (size > maxUploadBytes) {
              done(new InputError(`body: larger than ${maxUploadBytes} bytes`));
              return;
            }
            hash.update(chunk);
            done(null, chunk);
          },
        }),
        fs.createWriteStream(file),
      );
      const stored = await this.options.store.put(grant.key, file, {
        move: true,
        digest: `sha256:${hash.digest('hex')}`,
      });
      res.status(201).json(stored);
    } finally {
      await fs.promises.rm(file, { force: true });
    }
  }
}
