import { createExtensionPoint } from '@backstage/backend-plugin-api';
import { ArtifactStore } from './ArtifactStore';
import { Runtime } from './Runtime';

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

/** @public */
export interface MlPlatformRuntimeExtensionPoint {
  /** Makes a runtime selectable through `mlPlatform.runtime`. */
  addRuntime(runtime: Runtime): void;
}

/**
 * Lets backend modules add runtimes (for example `kubernetes`) to the
 * ml-platform plugin.
 *
 * @public
 */
export const mlPlatformRuntimeExtensionPoint =
  createExtensionPoint<MlPlatformRuntimeExtensionPoint>({
    id: 'ml-platform.runtimes',
  });
