import { ConfigReader } from '@backstage/config';
import { runGit } from '@internal/plugin-ml-platform-node';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  GitCredentials,
  parseRepositoryUrl,
  resolveBranch,
  resolveDefaultBranch,
  sourceFromEntity,
} from './GitSource';

const entity = (annotations: Record<string, string>) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'm', annotations },
  spec: { type: 'ml-model' },
});

describe('parseRepositoryUrl', () => {
  it.each([
    [
      'url:https://github.com/acme/models/tree/main/churn/',
      {
        url: 'https://github.com/acme/models.git',
        branch: 'main',
        path: 'churn',
      },
    ],
    [
      'https://github.com/acme/models/blob/dev/a/b/catalog-info.yaml',
      {
        url: 'https://github.com/acme/models.git',
        branch: 'dev',
        path: 'a/b/catalog-info.yaml',
      },
    ],
    [
      'https://gitlab.example.com/g/sub/repo/-/tree/release/x',
      {
        url: 'https://gitlab.example.com/g/sub/repo.git',
        branch: 'release',
        path: 'x',
      },
    ],
    [
      'https://github.com/acme/churn',
      { url: 'https://github.com/acme/churn.git', path: '' },
    ],
    [
      'https://github.com/acme/churn.git',
      { url: 'https://github.com/acme/churn.git', path: '' },
    ],
    [
      'git@github.com:acme/churn.git',
      { url: 'git@github.com:acme/churn.git', path: '' },
    ],
    [
      'file:///srv/git/churn.git',
      { url: 'file:///srv/git/churn.git', path: '' },
    ],
  ])('%s', (input, expected) => {
    expect(parseRepositoryUrl(input)).toEqual(expected);
  });
});

describe('sourceFromEntity', () => {
  it('prefers the ml-platform annotations', () => {
    expect(
      sourceFromEntity(
        entity({
          'ml-platform/git-url': 'ssh://git@host/models.git',
          'ml-platform/git-path': '/models/churn/',
          'ml-platform/git-branch': 'prod',
          'ml-platform/manifest-path': 'ml/mlmodel.yaml',
          'backstage.io/source-location': 'url:https://github.com/other/repo',
        }),
      ),
    ).toEqual({
      url: 'ssh://git@host/models.git',
      path: 'models/churn',
      branch: 'prod',
      manifestPath: 'ml/mlmodel.yaml',
    });
  });

  it('falls back to the source location, and gives up on file locations', () => {
    expect(
      sourceFromEntity(
        entity({
          'backstage.io/source-location':
            'url:https://github.com/acme/models/tree/main/churn/',
        }),
      ),
    ).toMatchObject({
      url: 'https://github.com/acme/models.git',
      branch: 'main',
      path: 'churn',
    });
    expect(
      sourceFromEntity(
        entity({ 'backstage.io/source-location': 'file:/tmp/x/' }),
      ),
    ).toBeUndefined();
    expect(sourceFromEntity(entity({}))).toBeUndefined();
  });
});

describe('GitCredentials', () => {
  const credentials = new GitCredentials(
    new ConfigReader({
      integrations: {
        github: [{ host: 'github.com', token: 'ghp_secret' }],
        gitlab: [
          {
            host: 'gitlab.example.com',
            token: 'glpat_secret',
            apiBaseUrl: 'https://gitlab.example.com/api/v4',
          },
        ],
      },
    }),
  );

  it('hands tokens to git through config variables only', () => {
    const env = credentials.envFor('https://github.com/acme/models.git');
    expect(env.GIT_CONFIG_KEY_0).toBe('http.extraHeader');
    expect(env.GIT_CONFIG_VALUE_0).toBe(
      `Authorization: Basic ${Buffer.from('x-access-token:ghp_secret').toString(
        'base64',
      )}`,
    );
    expect(
      credentials.envFor('https://gitlab.example.com/g/r.git')
        .GIT_CONFIG_VALUE_0,
    ).toContain(Buffer.from('oauth2:glpat_secret').toString('base64'));
    expect(credentials.envFor('https://elsewhere.org/r.git')).toEqual({});
    expect(credentials.envFor('git@github.com:acme/r.git')).toEqual({});
  });

  it('lists the secrets to mask', () => {
    expect(credentials.secrets()).toEqual(
      expect.arrayContaining(['ghp_secret', 'glpat_secret']),
    );
  });
});

describe('resolveBranch', () => {
  it('reads branch heads and the default branch of a real repository', async () => {
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-src-'));
    await runGit(['init', '-q', '-b', 'trunk', dir]);
    await fs.promises.writeFile(path.join(dir, 'a.txt'), 'a');
    const env = {
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
    };
    await runGit(['add', '.'], { cwd: dir });
    await runGit(['commit', '-qm', 'one'], { cwd: dir, env });
    const head = (await runGit(['rev-parse', 'HEAD'], { cwd: dir })).trim();
    const url = `file://${dir}`;
    expect(await resolveBranch(url, 'trunk', {})).toBe(head);
    expect(await resolveBranch(url, 'nope', {})).toBeUndefined();
    expect(await resolveDefaultBranch(url, {})).toBe('trunk');
    await fs.promises.rm(dir, { recursive: true, force: true });
  });
});
