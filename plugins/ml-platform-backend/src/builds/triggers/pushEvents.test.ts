import { parsePushEvent } from './pushEvents';

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
});
