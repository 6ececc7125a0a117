import { Entity } from '@backstage/catalog-model';
import { workloadLabels } from './workloadLabels';

const entity = (selector?: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'churn',
    annotations: selector
      ? { 'backstage.io/kubernetes-label-selector': selector }
      : undefined,
  },
});

describe('workloadLabels', () => {
  it('turns the equality terms of the selector into labels', () => {
    expect(workloadLabels(entity('app=churn, tier==ml'))).toEqual({
      app: 'churn',
      tier: 'ml',
    });
  });

  it('leaves out set-based terms and entities without the annotation', () => {
    expect(workloadLabels(entity('app=churn,env in (a,b),!canary'))).toEqual({
      app: 'churn',
    });
    expect(workloadLabels(entity())).toEqual({});
  });
});
