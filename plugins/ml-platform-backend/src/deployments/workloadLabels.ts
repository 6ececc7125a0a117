import { Entity } from '@backstage/catalog-model';

/** The annotation Backstage's Kubernetes plugin finds an entity's workloads by. */
export const KUBERNETES_LABEL_SELECTOR_ANNOTATION =
  'backstage.io/kubernetes-label-selector';

/**
 * The labels a model's workloads carry so its entity's
 * `backstage.io/kubernetes-label-selector` selects them: the equality terms
 * (`app=churn,tier=ml`); set-based terms (`env in (a,b)`, `!x`) cannot be
 * turned into labels and are left out.
 */
export function workloadLabels(entity: Entity): Record<string, string> {
  const selector =
    entity.metadata.annotations?.[KUBERNETES_LABEL_SELECTOR_ANNOTATION];
  const labels: Record<string, string> = {};
  for (const term of selector?.split(',') ?? []) {
    const match = /^\s*([A-Za-z0-9./_-]+)\s*==?\s*([A-Za-z0-9._-]*)\s*$/.exec(
      term,
    );
    if (match) labels[match[1]] = match[2];
  }
  return labels;
}
