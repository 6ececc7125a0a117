import { ConfigReader } from '@backstage/config';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { GitCommandError, runGit } from './git';
import {
  checkBranchName,
  checkCloneUrl,
  readGitUrlPolicy,
  redactUrlCredentials,
} from './gitInput';

describe('checkCloneUrl', () => {
  const policy = {
    allowedSchemes: ['https', 'ssh', 'file'],
    gitRoot: '/srv/git',
  };

  it.each([
    'https://github.com/acme/models.git',
    'ssh://git@github.com/acme/models.git',
    'git@github.com:acme/models.git',
    'file:///srv/git/examples.git',
    '/srv/git/team/models.git',
  ])('accepts %s', url => {
    expect(checkCloneUrl(url, policy)).toBeUndefined();
  });

  it.each([
    ['--upload-pack=touch /tmp/pwned', /cannot start with "-"/],
    ['-oProxyCommand=x', /cannot start with "-"/],
    ['ext::sh -c touch% /tmp/pwned', /spaces|remote helper/],
    ['ext::sh', /remote helper/],
    ['fd::17', /remote helper/],
    ['http://example.com/r.git', /http scheme is not allowed/],
    ['git://example.com/r.git', /git scheme is not allowed/],
    ['https://user:secret@github.com/acme/m.git', /credentials/],
    ['https://ghp_token@github.com/acme/m.git', /credentials/],
    ['ssh://git:secret@github.com/acme/m.git', /credentials/],
    ['ssh://-oProxyCommand=x/r', /host name/],
    ['file:///etc', /under mlPlatform.git.root/],
    ['file:///srv/git/../../etc', /under mlPlatform.git.root/],
    ['/srv/gitx/models.git', /under mlPlatform.git.root/],
    ['relative/models.git', /under mlPlatform.git.root/],
    ['file://otherhost/srv/git/r.git', /host/],
    ['https://example.com/a b', /spaces/],
    [`https://example.com/${'a'.repeat(3000)}`, /at most 2048/],
    ['', /expected a Git clone URL/],
  ])('refuses %s', (url, problem) => {
    expect(checkCloneUrl(url, policy)).toMatch(problem);
  });

  it('follows symlinks out of the git root', async () => {
    const root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-root-'));
    await fs.promises.symlink('/etc', path.join(root, 'escape'));
    const inside = { ...policy, gitRoot: root };
    expect(
      checkCloneUrl(pathToFileURL(path.join(root, 'escape')).href, inside),
    ).toMatch(/under mlPlatform.git.root/);
    expect(checkCloneUrl(path.join(root, 'new.git'), inside)).toBeUndefined();
    await fs.promises.rm(root, { recursive: true, force: true });
  });

  it('reads the policy from config and refuses unknown schemes', () => {
    expect(
      readGitUrlPolicy(new ConfigReader({ mlPlatform: { dataDir: '/d' } })),
    ).toEqual({ allowedSchemes: ['https', 'ssh', 'file'], gitRoot: '/d/git' });
    expect(() =>
      readGitUrlPolicy(
        new ConfigReader({ mlPlatform: { git: { allowedSchemes: ['ext'] } } }),
      ),
    ).toThrow(/allowedSchemes: "ext"/);
  });
});

describe('checkBranchName', () => {
  it.each(['main', 'feature/x', 'release-1.2', 'a_b'])(
    'accepts %s',
    async b => {
      expect(await checkBranchName(b)).toBeUndefined();
    },
  );

  it.each([
    ['--upload-pack=x', /cannot start with "-"/],
    ['a..b', /check-ref-format/],
    ['a.lock', /check-ref-format/],
    ['x/', /check-ref-format/],
    ['@{-1}', /expected a branch name|check-ref-format/],
    ['a b', /expected a branch name/],
    ['b'.repeat(140_000), /at most 255/],
    ['', /expected a branch name/],
  ])('refuses %s', async (branch, problem) => {
    expect(await checkBranchName(branch)).toMatch(problem);
  });
});

describe('redactUrlCredentials', () => {
  it('masks passwords and tokens, keeps ssh user names', () => {
    expect(
      redactUrlCredentials(
        "fatal: repository 'https://ada:s3cret@example.com/r.git/' not found",
      ),
    ).toBe("fatal: repository 'https://***@example.com/r.git/' not found");
    expect(redactUrlCredentials('https://ghp_abc@github.com/a/b')).toBe(
      'https://***@github.com/a/b',
    );
    expect(redactUrlCredentials('ssh://git@github.com/a/b')).toBe(
      'ssh://git@github.com/a/b',
    );
  });
});

describe('runGit protocol restrictions', () => {
  it('never runs the ext transport, even when asked for', async () => {
    const marker = path.join(os.tmpdir(), `mlp-ext-${process.pid}`);
    const error = await runGit(['ls-remote', '--', `ext::touch ${marker}`], {
      env: { GIT_ALLOW_PROTOCOL: 'ext:file' },
    }).catch(e => e);
    expect(error).toBeInstanceOf(GitCommandError);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('redacts credentials in its errors', async () => {
    const error = await runGit([
      'ls-remote',
      '--',
      'https://ada:s3cret@127.0.0.1:9/r.git',
    ]).catch(e => e);
    expect(error).toBeInstanceOf(GitCommandError);
    expect(error.message).not.toMatch(/s3cret/);
    expect(error.stderr).not.toMatch(/s3cret/);
    expect(error.args.join(' ')).not.toMatch(/s3cret/);
  });
});
