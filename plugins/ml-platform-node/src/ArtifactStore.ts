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
