import {
  ManifestField,
  ModelBuild,
  ModelInterface,
} from '@internal/plugin-ml-platform-common';

/**
 * The input fields the build's validated manifest declares, or undefined
 * when it declares none or the build has no manifest yet (its validate step
 * has not run); callers then fall back to asking the user.
 */
export function inputFieldsOf(
  build: ModelBuild | undefined,
): ManifestField[] | undefined {
  const inputs = build?.manifest?.spec.schema?.inputs;
  return inputs?.length ? inputs : undefined;
}

/** What the build's `predict` receives (`spec.interface`); records by default. */
export function interfaceOf(build: ModelBuild | undefined): ModelInterface {
  return build?.manifest?.spec.interface ?? 'records';
}
