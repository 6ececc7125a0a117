import {
  ManifestField,
  MlModelManifest,
  ModelBuild,
} from '@internal/plugin-ml-platform-common';

/**
 * The validated manifest the build was made from. `ModelBuild` does not
 * declare it yet; the backend is to add it, and until then every caller
 * falls back to asking the user.
 */
export function manifestOf(
  build: ModelBuild | undefined,
): MlModelManifest | undefined {
  return (build as (ModelBuild & { manifest?: MlModelManifest }) | undefined)
    ?.manifest;
}

export function inputFieldsOf(
  build: ModelBuild | undefined,
): ManifestField[] | undefined {
  const inputs = manifestOf(build)?.spec.schema?.inputs;
  return inputs?.length ? inputs : undefined;
}
