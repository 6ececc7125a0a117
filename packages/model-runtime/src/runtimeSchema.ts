/**
 * The JSON the runtime reads from `--schema FILE`: a manifest's
 * `spec.schema` (inputs and outputs) and `spec.interface` (what `predict`
 * receives: records, a DataFrame or an ndarray).
 */
export function runtimeSchemaJson(spec: {
  /** `{ inputs, outputs }`, as the manifest schema validated it. */
  schema?: unknown;
  interface?: string;
}): string {
  return JSON.stringify({
    ...(spec.schema as object | undefined),
    interface: spec.interface ?? 'records',
  });
}
