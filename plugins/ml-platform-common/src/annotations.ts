import type { Entity } from '@backstage/catalog-model';

/** The catalog `spec.type` that marks a Component as a model. @public */
export const ML_MODEL_COMPONENT_TYPE = 'ml-model';

/**
 * Path of the model manifest inside the model's source directory.
 * Defaults to `mlmodel.yaml`. @public
 */
export const ANNOTATION_MANIFEST_PATH = 'ml-platform/manifest-path';

/**
 * A clone URL for the model's Git repository, for repositories whose
 * `backstage.io/source-location` is not something `git` can clone. @public
 */
export const ANNOTATION_GIT_URL = 'ml-platform/git-url';

/**
 * Directory inside the repository that holds the model (a monorepo of
 * models); defaults to the repository root. @public
 */
export const ANNOTATION_GIT_PATH = 'ml-platform/git-path';

/** Standard Backstage annotation for the repository of an entity. @public */
export const ANNOTATION_SOURCE_LOCATION = 'backstage.io/source-location';

/** Default manifest file name. @public */
export const DEFAULT_MANIFEST_PATH = 'mlmodel.yaml';

/** True for catalog entities the platform treats as models. @public */
export function isMlModelEntity(entity: Entity): boolean {
  return (
    entity.kind.toLocaleLowerCase('en-US') === 'component' &&
    (entity.spec as { type?: unknown } | undefined)?.type ===
      ML_MODEL_COMPONENT_TYPE
  );
}
