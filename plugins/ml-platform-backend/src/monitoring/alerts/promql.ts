import { ManifestAlertRule } from '@internal/plugin-ml-platform-common';
import { METRICS } from '../metricNames';
import { ALERT_WINDOW_MS, DRIFT_WINDOW_MS } from './alertMetrics';

/** A PromQL string literal. */
export function promLiteral(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

const range = (ms: number) => `${Math.round(ms / 60_000)}m`;

/**
 * A rule's metric as PromQL over the platform's exposition: the same
 * quantity the embedded evaluator computes (rates and ratios over the alert
 * window, drift between the last drift window and the one before it).
 */
export function alertValueExpression(
  rule: Pick<ManifestAlertRule, 'metric' | 'output'>,
  model: { namespace: string; name: string },
): string {
  const base = `namespace=${promLiteral(model.namespace)},model=${promLiteral(
    model.name,
  )}`;
  const sel = (extra = '') => `{${base}${extra}}`;
  const w = range(ALERT_WINDOW_MS);
  const rate = (metric: string, extra = '') =>
    `rate(${metric}${sel(extra)}[${w}])`;
  const output = rule.output ? `,output=${promLiteral(rule.output)}` : '';
  switch (rule.metric) {
    case 'error_rate':
      return `sum(${rate(
        METRICS.requests,
        ',outcome!="success"',
      )}) / sum(${rate(METRICS.requests)})`;
    case 'latency_p95':
    case 'latency_p99': {
      const q = rule.metric === 'latency_p95' ? 0.95 : 0.99;
      return `histogram_quantile(${q}, sum by (le) (${rate(
        `${METRICS.requestDuration}_bucket`,
      )}))`;
    }
    case 'requests_per_second':
      return `sum(${rate(METRICS.requests)}) or vector(0)`;
    case 'prediction_mean':
      return `max(sum by (output) (${rate(
        `${METRICS.predictionValue}_sum`,
        output,
      )}) / sum by (output) (${rate(
        `${METRICS.predictionValue}_count`,
        output,
      )}))`;
    case 'prediction_drift': {
      const d = range(DRIFT_WINDOW_MS);
      const inc = (metric: string, by: string, offset: boolean) =>
        `sum by (${by}) (increase(${metric}${sel(output)}[${d}]${
          offset ? ` offset ${d}` : ''
        }))`;
      // Numeric outputs: the largest gap between cumulative shares (KS).
      const share = (offset: boolean) =>
        `(${inc(
          `${METRICS.predictionValue}_bucket`,
          'output, le',
          offset,
        )} / ignoring(le) group_left ${inc(
          `${METRICS.predictionValue}_count`,
          'output',
          offset,
        )})`;
      const ks = `max by (output) (abs(${share(false)} - ${share(true)}))`;
      // Classes: half the summed gaps between shares (total variation); a
      // value seen in one window only counts in full.
      const cls = (offset: boolean) =>
        `(${inc(
          METRICS.predictions,
          'output, value',
          offset,
        )} / ignoring(value) group_left ${inc(
          METRICS.predictions,
          'output',
          offset,
        )})`;
      const tv = `0.5 * sum by (output) (abs((${cls(false)} - ${cls(
        true,
      )}) or ${cls(false)} or (-${cls(true)})))`;
      return `max((${ks}) or (${tv}))`;
    }
    default:
      return `sum(${rate(
        `${METRICS.kpi}_sum`,
        `,kpi=${promLiteral(rule.metric)}`,
      )}) / sum(${rate(
        `${METRICS.kpi}_count`,
        `,kpi=${promLiteral(rule.metric)}`,
      )})`;
  }
}

/** The rule's condition: the value expression compared with the threshold. */
export function alertConditionExpression(
  rule: Pick<ManifestAlertRule, 'metric' | 'output' | 'op' | 'threshold'>,
  model: { namespace: string; name: string },
): string {
  return `(${alertValueExpression(rule, model)}) ${rule.op} ${rule.threshold}`;
}
