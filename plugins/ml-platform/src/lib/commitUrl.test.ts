import type { Entity } from '@backstage/catalog-model';
import { commitUrl, sourceLocationUrl } from './commitUrl';

const entity = (sourceLocation?: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'churn',
    annotations: sourceLocation
      ? { 'backstage.io/source-location': sourceLocation }
      : {},
  },
});

const SHA = '0123456789abcdef0123456789abcdef01234567';
const link = (location: string) =>
  commitUrl(sourceLocationUrl(entity(location))!, SHA);

describe('commitUrl', () => {
  it('links GitHub trees to the commit', () => {
    expect(link('url:https://github.com/acme/models/tree/main/churn/')).toBe(
      `https://github.com/acme/models/commit/${SHA}`,
    );
    expect(link('url:https://ghe.acme.io/ds/churn')).toBe(
      `https://ghe.acme.io/ds/churn/commit/${SHA}`,
    );
  });

  it('links GitLab, Bitbucket, Azure DevOps and Gitea', () => {
    expect(link('url:https://gitlab.com/acme/ml/churn/-/tree/main/')).toBe(
      `https://gitlab.com/acme/ml/churn/-/commit/${SHA}`,
    );
    expect(link('url:https://bitbucket.org/acme/churn/src/main/')).toBe(
      `https://bitbucket.org/acme/churn/commits/${SHA}`,
    );
    expect(
      link('url:https://dev.azure.com/acme/ml/_git/churn?path=/model'),
    ).toBe(`https://dev.azure.com/acme/ml/_git/churn/commit/${SHA}`);
    expect(link('url:https://gitea.acme.io/ds/churn/src/branch/main/')).toBe(
      `https://gitea.acme.io/ds/churn/commit/${SHA}`,
    );
  });

  it('has no web URL for other locations', () => {
    expect(sourceLocationUrl(entity())).toBeUndefined();
    expect(sourceLocationUrl(entity('file:/repos/churn'))).toBeUndefined();
    expect(sourceLocationUrl(entity('url:ssh://git@host/x'))).toBeUndefined();
  });
});
