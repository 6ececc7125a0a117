/**
 * Alert rules and their states as `GET|PUT models/{namespace}/{name}/alerts`
 * and `GET .../alerts/history` answer them.
 */
import type { ManifestAlertRule } from './manifest/manifestSchema';

/**
 * Where a rule is in its life: `ok` (condition false), `pending` (true for
 * less than `for`), `firing` (true for `for` or longer), `resolved` (false
 * again after firing).
 *
 * @public
 */
export type AlertState = 'ok' | 'pending' | 'firing' | 'resolved';

/** A rule as the model has it: from `mlmodel.yaml`, or set through the API. @public */
export type ModelAlertRule = ManifestAlertRule & {
  /** `manifest`: from the latest succeeded build's mlmodel.yaml; `api`: set with PUT. */
  source: 'manifest' | 'api';
  /** An `api` rule that replaces the manifest's rule of the same name. */
  overridesManifest?: boolean;
};

/** A rule with its current state. @public */
export type ModelAlert = ModelAlertRule & {
  state: AlertState;
  /** When the state last changed (ISO time); null before the first evaluation. */
  since: string | null;
  /** The metric's value at the last evaluation; null without data. */
  value: number | null;
  lastEvaluatedAt: string | null;
  /** Notifications are held back until then (ISO time). */
  silencedUntil: string | null;
};

/** `GET models/{namespace}/{name}/alerts`. @public */
export interface ModelAlerts {
  items: ModelAlert[];
  /** How often the embedded evaluator runs, in seconds. */
  evaluationIntervalSeconds: number;
}

/** A state change of a rule. @public */
export interface AlertHistoryEntry {
  id: number;
  rule: string;
  state: AlertState;
  value: number | null;
  threshold: number | null;
  at: string;
  /** Who saw the change: the embedded evaluator, or an Alertmanager webhook. */
  source: 'evaluator' | 'alertmanager';
  /** Whether the owner was notified (not for pending, nor while silenced). */
  notified: boolean;
  silenced: boolean;
}

/** `GET models/{namespace}/{name}/alerts/history`. @public */
export interface AlertHistoryPage {
  items: AlertHistoryEntry[];
  totalCount: number;
}

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
