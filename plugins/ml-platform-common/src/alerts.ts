/**
 * Alert rules as the platform holds them, and the uid of a model's Grafana
 * dashboard (the API's shapes are the generated models: ModelAlert, ...).
 */
import type { ManifestAlertRule } from './manifest/manifestSchema';

/** A rule as the model has it: from `mlmodel.yaml`, or set through the API. @public */
export type ModelAlertRule = ManifestAlertRule & {
  /** `manifest`: from the latest succeeded build's mlmodel.yaml; `api`: set with PUT. */
  source: 'manifest' | 'api';
  /** An `api` rule that replaces the manifest's rule of the same name. */
  overridesManifest?: boolean;
};

/** Grafana's limit on dashboard uids. */
const MAX_DASHBOARD_UID = 40;

/** 64-bit FNV-1a as hex: a stable short hash that runs in the browser too. */
function fnv1a64(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0');
}

/**
 * The uid of a model's generated Grafana dashboard: `mlp-<namespace>-<name>`
 * when that fits Grafana's 40 characters and alphabet, else cut and ended
 * with a hash of the entity ref, so two models never share one.
 *
 * @public
 */
export function modelDashboardUid(namespace: string, name: string): string {
  const plain = `mlp-${namespace}-${name}`;
  if (plain.length <= MAX_DASHBOARD_UID && /^[A-Za-z0-9_-]+$/.test(plain)) {
    return plain;
  }
  const hash = fnv1a64(`component:${namespace}/${name}`);
  const readable = plain.replace(/[^A-Za-z0-9_-]/g, '_');
  return `${readable.slice(0, MAX_DASHBOARD_UID - hash.length - 1)}-${hash}`;
}
