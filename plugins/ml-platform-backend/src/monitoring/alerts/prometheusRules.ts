import {
  ManifestAlertRule,
  ModelAlertRule,
} from '@internal/plugin-ml-platform-common';
import YAML from 'yaml';
import { alertConditionExpression } from './promql';

/** Labels every exported rule carries, so an Alertmanager routes it back. */
export const RULE_LABEL = 'ml_platform_rule';

function description(rule: ManifestAlertRule): string {
  return `${rule.metric}${rule.output ? ` of ${rule.output}` : ''} ${rule.op} ${
    rule.threshold
  }: {{ $value }}`;
}

/**
 * A model's rules as a Prometheus rule file (one group per model): each an
 * alerting rule on the platform's exposition, labelled `model`,
 * `namespace`, `severity` and the rule's name, annotated with where to look.
 */
export function prometheusRuleFile(
  model: { namespace: string; name: string },
  rules: ModelAlertRule[],
  options: { monitoringUrl?: string } = {},
): string {
  const group = {
    name: `ml-platform:${model.namespace}/${model.name}`,
    rules: rules.map(rule => ({
      alert: rule.name,
      expr: alertConditionExpression(rule, model),
      for: rule.for,
      labels: {
        model: model.name,
        namespace: model.namespace,
        severity: rule.severity,
        [RULE_LABEL]: rule.name,
      },
      annotations: {
        summary: `${rule.name} of ${model.name}`,
        description: description(rule),
        ...(options.monitoringUrl
          ? { monitoring_url: options.monitoringUrl }
          : {}),
      },
    })),
  };
  return YAML.stringify(
    { groups: [group] },
    {
      lineWidth: 0,
      defaultStringType: 'QUOTE_DOUBLE',
      defaultKeyType: 'PLAIN',
    },
  );
}
