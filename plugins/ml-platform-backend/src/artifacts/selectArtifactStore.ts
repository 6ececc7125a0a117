import {
  ArtifactStore,
  LocalArtifactStore,
} from '@internal/plugin-ml-platform-node';
import { PlatformConfig } from '../platformConfig';

/**
 * Picks the store named by `mlPlatform.artifacts.type` among the built-in
 * local store and those modules added; an unknown name stops the backend
 * with the names it knows, rather than failing at the first build.
 */
export function selectArtifactStore(
  config: Pick<PlatformConfig, 'artifacts'>,
  added: ArtifactStore[],
): ArtifactStore {
  const stores = new Map<string, ArtifactStore>([
    ['local', new LocalArtifactStore(config.artifacts.localDir)],
  ]);
  for (const store of added) stores.set(store.type, store);
  const store = stores.get(config.artifacts.type);
  if (!store) {
    throw new Error(
      `mlPlatform.artifacts.type is "${
        config.artifacts.type
      }", but no artifact store of that type is installed; available: ${[
        ...stores.keys(),
      ].join(', ')}`,
    );
  }
  return store;
}
