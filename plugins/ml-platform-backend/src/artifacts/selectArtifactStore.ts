import {
  ArtifactStore,
  ArtifactStoreFactoryContext,
  LocalArtifactStore,
  TypedFactories,
} from '@internal/plugin-ml-platform-node';
import { PlatformConfig } from '../platformConfig';

type ArtifactsConfig = {
  artifacts: Pick<PlatformConfig['artifacts'], 'type' | 'localDir'>;
};

/** The artifact stores to choose from: the built-in local one, and those modules add. */
export function artifactStoreFactories(
  config: ArtifactsConfig,
): TypedFactories<ArtifactStore, ArtifactStoreFactoryContext> {
  return new TypedFactories('artifact store', {
    local: () => new LocalArtifactStore(config.artifacts.localDir),
  });
}

/**
 * Picks the store named by `mlPlatform.artifacts.type` among the built-in
 * local store and those modules added; an unknown name stops the backend
 * with the names it knows, rather than failing at the first build.
 */
export function selectArtifactStore(
  config: ArtifactsConfig,
  added: ArtifactStore[],
): ArtifactStore {
  const factories = artifactStoreFactories(config);
  for (const store of added) factories.add(store);
  return factories.create(
    config.artifacts.type,
    undefined as never,
    'mlPlatform.artifacts.type',
  ) as ArtifactStore;
}

/**
 * What a module passed to `addArtifactStore`: a store, or a type and the
 * factory called only when that type is chosen.
 */
export type AddedArtifactStore = Parameters<
  ReturnType<typeof artifactStoreFactories>['add']
>;
