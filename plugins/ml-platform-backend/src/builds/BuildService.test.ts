import { normalizeRepoUrl } from './BuildService';

describe('normalizeRepoUrl', () => {
  it('makes every spelling of one repository equal', () => {
    const forms = [
      'https://github.com/acme/models.git',
      'https://github.com/acme/models',
      'https://GitHub.com/acme/models/',
      'git@github.com:acme/models.git',
      'ssh://git@github.com/acme/models.git',
      'git://github.com/acme/models.git',
      'https://token@github.com/acme/models.git',
    ];
    expect(new Set(forms.map(normalizeRepoUrl))).toEqual(
      new Set(['github.com/acme/models']),
    );
    expect(normalizeRepoUrl('file:///srv/git/churn.git')).toBe(
      '/srv/git/churn',
    );
  });
});
