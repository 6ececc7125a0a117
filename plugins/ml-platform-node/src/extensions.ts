import { createExtensionPoint } from '@backstage/backend-plugin-api';
import { ArtifactStore } from './ArtifactStore';

/** @public */
export interface MlPlatformArtifactStoreExtensionPoint {
  /** Makes a store selectable through `mlPlatform.artifacts.type`. */
  addArtifactStore(store: ArtifactStore): void;
}

/**
 * Lets backend modules add artifact stores to the ml-platform plugin.
 *
 * @public
 */
export const mlPlatformArtifactStoreExtensionPoint =
  createExtensionPoint<MlPlatformArtifactStoreExtensionPoint>({
    id: 'ml-platform.artifact-stores',
  });
