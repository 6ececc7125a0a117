import { ConfigReader } from '@backstage/config';
import {
  authenticatedPushTopics,
  carriesSignature,
  parsePushEvent,
} from './pushEvents';

// Trimmed from GitHub's documented push webhook payload.
const githubPush = {
  ref: 'refs/heads/main',
  before: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
  after: '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
  deleted: false,
  repository: {
    full_name: 'acme/models',
    html_url: 'https://github.com/acme/models',
    clone_url: 'https://github.com/acme/models.git',
    ssh_url: 'git@github.com:acme/models.git',
    git_url: 'git://github.com/acme/models.git',
  },
  pusher: { name: 'octocat', email: 'octocat@github.com' },
  sender: { login: 'octocat' },
  head_commit: {
    id: '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
    message: 'Retrain churn\n\nwith more data',
    author: { name: 'The Octocat', email: 'octocat@github.com' },
  },
  commits: [
    { added: ['churn/new.py'], modified: ['churn/model.py'], removed: [] },
  ],
};

describe('parsePushEvent', () => {
  it('reads a GitHub push', () => {
    expect(
      parsePushEvent({ topic: 'github.push', eventPayload: githubPush }),
    ).toEqual({
      topic: 'github.push',
      repositoryUrls: [
        'https://github.com/acme/models.git',
        'https://github.com/acme/models',
        'git@github.com:acme/models.git',
        'git://github.com/acme/models.git',
        undefined,
      ],
      branch: 'main',
      commitSha: '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
      commitMessage: 'Retrain churn',
      commitAuthor: 'The Octocat <octocat@github.com>',
      pusher: 'octocat',
      changedPaths: ['churn/new.py', 'churn/model.py'],
    });
  });

  it('ignores tags and deleted branches', () => {
    expect(
      parsePushEvent({
        topic: 'github.push',
        eventPayload: { ...githubPush, ref: 'refs/tags/v1' },
      }),
    ).toBeUndefined();
    expect(
      parsePushEvent({
        topic: 'github.push',
        eventPayload: {
          ...githubPush,
          deleted: true,
          after: '0000000000000000000000000000000000000000',
        },
      }),
    ).toBeUndefined();
  });

  it('reads a GitLab push', () => {
    const event = parsePushEvent({
      topic: 'gitlab.push',
      eventPayload: {
        object_kind: 'push',
        ref: 'refs/heads/dev',
        checkout_sha: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
        user_username: 'jsmith',
        project: {
          web_url: 'https://gitlab.example.com/ml/models',
          git_http_url: 'https://gitlab.example.com/ml/models.git',
          git_ssh_url: 'git@gitlab.example.com:ml/models.git',
        },
        commits: [
          {
            id: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
            message: 'fix model',
            author: { name: 'Jordi', email: 'j@example.com' },
            added: [],
            modified: ['sentiment/model.py'],
            removed: [],
          },
        ],
      },
    });
    expect(event).toMatchObject({
      branch: 'dev',
      commitSha: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
      commitMessage: 'fix model',
      pusher: 'jsmith',
      changedPaths: ['sentiment/model.py'],
    });
    expect(event!.repositoryUrls).toContain(
      'git@gitlab.example.com:ml/models.git',
    );
  });

  it('reads hostile payloads without throwing, keeping only strings', () => {
    const event = parsePushEvent({
      topic: 'github.push',
      eventPayload: {
        ...githubPush,
        pusher: { name: { $gt: '' } },
        head_commit: { message: 42, author: 'x' },
        commits: [{ added: 'churn/a.py', modified: [1, 'churn/b.py'] }, null],
      },
    });
    expect(event).toMatchObject({
      pusher: undefined,
      commitMessage: undefined,
      commitAuthor: undefined,
      changedPaths: ['churn/b.py'],
    });
    expect(
      parsePushEvent({
        topic: 'github.push',
        eventPayload: { ...githubPush, after: ['a'.repeat(40)] },
      }),
    ).toBeUndefined();
  });
});

describe('authenticatedPushTopics', () => {
  it('builds on the pushes of providers whose webhook secret is configured, and says how to configure the others', () => {
    expect(authenticatedPushTopics(new ConfigReader({}))).toEqual({
      topics: [],
      advice: expect.stringMatching(
        /^GitHub and GitLab push webhooks start no builds: set events.modules.github.webhookSecret \/ events.modules.gitlab.webhookSecret/,
      ),
    });
    expect(
      authenticatedPushTopics(
        new ConfigReader({
          events: { modules: { github: { webhookSecret: 's' } } },
        }),
      ),
    ).toEqual({
      topics: ['github.push'],
      advice: expect.stringMatching(/^GitLab push webhooks start no builds/),
    });
    expect(
      authenticatedPushTopics(
        new ConfigReader({
          integrations: {
            github: [{ host: 'github.com', apps: [{ webhookSecret: 's' }] }],
          },
          events: { modules: { gitlab: { webhookSecret: 't' } } },
        }),
      ),
    ).toEqual({ topics: ['github.push', 'gitlab.push'] });
  });

  it('builds only on events that carry the header the webhook module checked', () => {
    const event = (topic: string, metadata?: Record<string, string>) => ({
      topic,
      eventPayload: {},
      metadata,
    });
    expect(
      carriesSignature(
        event('github.push', { 'x-hub-signature-256': 'sha256=ab' }),
      ),
    ).toBe(true);
    expect(carriesSignature(event('github.push'))).toBe(false);
    expect(
      carriesSignature(event('gitlab.push', { 'x-gitlab-token': 't' })),
    ).toBe(true);
    expect(
      carriesSignature(event('gitlab.push', { 'x-hub-signature-256': 'x' })),
    ).toBe(false);
  });
});
