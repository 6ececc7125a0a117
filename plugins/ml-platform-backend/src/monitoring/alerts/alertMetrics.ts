import {
  DistributionBin,
  ManifestAlertRule,
  ModelMetrics,
  PredictionDistribution,
  alertMetrics,
} from '@internal/plugin-ml-platform-common';
import { MetricsSource } from '../query/MetricsSource';

/** Rates, ratios, percentiles and means are computed over this window. */
export const ALERT_WINDOW_MS = 5 * 60_000;
/** Drift compares the last hour's distribution with the hour before. */
export const DRIFT_WINDOW_MS = 60 * 60_000;

const MINUTE_MS = 60_000;

/** Whether a rule's metric is one of the platform's, else a custom KPI. */
export function isBuiltInMetric(
  metric: string,
): metric is (typeof alertMetrics)[number] {
  return (alertMetrics as readonly string[]).includes(metric);
}

/** `30s`, `5m`, `1h`, `250ms` in milliseconds. */
export function ruleDurationMs(text: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (!match) throw new Error(`Not a duration: ${text}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2]]!;
  return Number(match[1]) * unit;
}

export function compare(
  value: number,
  op: ManifestAlertRule['op'],
  threshold: number,
): boolean {
  switch (op) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    default:
      return value === threshold;
  }
}

/**
 * How far apart two windows' predictions of one output are, in [0, 1]:
 * numeric outputs the Kolmogorov-Smirnov distance of their histograms (the
 * largest gap between the cumulative shares), classes the total variation
 * distance (half the sum of the gaps between the shares). Undefined when
 * either window has no predictions.
 */
export function distributionDistance(
  kind: 'numeric' | 'class',
  bins: DistributionBin[],
): number | undefined {
  const current = bins.reduce((n, b) => n + b.current, 0);
  const previous = bins.reduce((n, b) => n + b.previous, 0);
  if (current === 0 || previous === 0) return undefined;
  if (kind === 'numeric') {
    let cumulativeCurrent = 0;
    let cumulativePrevious = 0;
    let distance = 0;
    for (const b of bins) {
      cumulativeCurrent += b.current / current;
      cumulativePrevious += b.previous / previous;
      distance = Math.max(
        distance,
        Math.abs(cumulativeCurrent - cumulativePrevious),
      );
    }
    return distance;
  }
  return (
    bins.reduce(
      (n, b) => n + Math.abs(b.current / current - b.previous / previous),
      0,
    ) / 2
  );
}

/** The outputs a prediction rule looks at: the one it names, or each one. */
function outputsOf(rule: ManifestAlertRule, metrics: ModelMetrics) {
  return metrics.predictions.filter(
    (p: PredictionDistribution) => !rule.output || p.output === rule.output,
  );
}

const highest = (values: (number | null | undefined)[]) => {
  const known = values.filter((v): v is number => typeof v === 'number');
  return known.length ? Math.max(...known) : undefined;
};

/**
 * The value of a rule's metric from a model's health over the alert window
 * (and, for drift, the drift window); undefined when there is nothing to
 * measure (no calls, no predictions, no such KPI), which never fires.
 */
export function ruleValue(
  rule: ManifestAlertRule,
  window: ModelMetrics,
  driftWindow?: ModelMetrics,
): number | undefined {
  const s = window.summary;
  switch (rule.metric) {
    case 'error_rate':
      return s.errorRatio ?? undefined;
    case 'latency_p95':
      return s.latencyP95 ?? undefined;
    case 'latency_p99':
      return s.latencyP99 ?? undefined;
    case 'requests_per_second':
      return s.requestsPerSecond;
    case 'prediction_mean':
      return highest(outputsOf(rule, window).map(p => p.currentMean));
    case 'prediction_drift':
      return driftWindow
        ? highest(
            outputsOf(rule, driftWindow).map(p =>
              distributionDistance(p.kind, p.bins),
            ),
          )
        : undefined;
    default: {
      const kpi = window.kpis.find(k => k.name === rule.metric);
      return kpi && kpi.total.count > 0
        ? kpi.total.sum / kpi.total.count
        : undefined;
    }
  }
}

/**
 * Reads a model's health for its rules at `now`: the alert window (whole
 * minutes up to the one holding `now`) and, when a rule needs it, the drift
 * window and the one before it.
 */
export async function measureRules(
  source: MetricsSource,
  modelRef: string,
  rules: ManifestAlertRule[],
  now: number,
): Promise<Map<string, number | undefined>> {
  const to = Math.floor(now / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const read = async (ms: number) =>
    (
      await source.read({ modelRef, from: to - ms, stepMs: ms, steps: 1 })
    ).toModelMetrics(source.type);
  const window = await read(ALERT_WINDOW_MS);
  const drift = rules.some(r => r.metric === 'prediction_drift')
    ? await read(DRIFT_WINDOW_MS)
    : undefined;
  return new Map(rules.map(r => [r.name, ruleValue(r, window, drift)]));
}
