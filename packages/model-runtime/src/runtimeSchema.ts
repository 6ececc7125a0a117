/**
 * The JSON the runtime reads from `--schema FILE`: a manifest's
 * `spec.schema` (inputs and outputs) and `spec.interface` (what `predict`
 * receives: records, a DataFrame or an ndarray).
 */
export function runtimeSchemaJson(spec: {
  schema?: object;
  interface?: string;
}): string {
  return JSON.stringify({
    ...spec.schema,
    interface: spec.interface ?? 'records',
  });
}
