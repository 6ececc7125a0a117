import type { Readable } from 'node:stream';

/** Where a stored artifact lives and what it contains. @public */
export interface StoredArtifact {
  /** Opaque to callers; the same store resolves it again, e.g. `local:builds/x.tar.gz`. */
  uri: string;
  /** `sha256:<hex>` of the stored bytes. */
  digest: string;
  size: number;
}

/**
 * Keeps build artifacts and batch results. The `local` store (a directory) is
 * the embedded default; object storage plugs in through
 * {@link mlPlatformArtifactStoreExtensionPoint}.
 *
 * @public
 */
export interface ArtifactStore {
  /** The name `mlPlatform.artifacts.type` selects this store by. */
  readonly type: string;
  /**
   * Stores a local file under `key` (a relative path like `builds/<id>.tar.gz`).
   * With `move`, the caller no longer needs the file and the store may take
   * it instead of copying it; `digest` is its `sha256:<hex>` when the caller
   * computed it while writing, which saves reading the file again.
   */
  put(
    key: string,
    filePath: string,
    options?: { move?: boolean; digest?: string },
  ): Promise<StoredArtifact>;
  /** Reads an artifact back. Rejects with a NotFoundError when it is gone. */
  read(uri: string): Promise<Readable>;
  /** Copies an artifact to a local file, checking its digest when given. */
  download(uri: string, destPath: string, digest?: string): Promise<void>;
  delete(uri: string): Promise<void>;
}

/** A URL with a short-lived token that allows one thing: @public */
export interface ArtifactLink {
  url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token: string;
  /** When the token stops working (ISO 8601). */
  expiresAt: string;
}

/**
 * How a runtime on another host reaches the artifact store: through the
 * platform, with tokens scoped to one artifact, never with the store's own
 * credentials.
 *
 * @public
 */
export interface ArtifactLinks {
  /**
   * `GET artifacts/{digest}` with a token for that digest only: the bytes of
   * a stored artifact (a build's package, a batch chunk).
   */
  download(
    artifact: { uri: string; digest: string },
    options?: { ttlMs?: number },
  ): Promise<ArtifactLink>;
  /**
   * `POST artifacts` with a token for that key only: the request body is
   * stored under `key` and answered with its {@link StoredArtifact}.
   */
  upload(key: string, options?: { ttlMs?: number }): Promise<ArtifactLink>;
}
