import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BatchConnections } from './BatchConnections';
import { ExecutionInputs, isNonPublicAddress } from './ExecutionInputs';
import { Uploads } from './Uploads';

describe('ExecutionInputs', () => {
  let tmp: string;
  let inputs: ExecutionInputs;

  beforeAll(async () => {
    tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-inputs-'));
    const root = path.join(tmp, 'inputs');
    await fs.promises.mkdir(path.join(root, 'dir'), { recursive: true });
    await fs.promises.writeFile(path.join(root, 'ok.csv'), 'a\n1\n');
    await fs.promises.symlink('/etc/passwd', path.join(root, 'escape.csv'));
    await fs.promises.symlink(
      path.join(root, 'ok.csv'),
      path.join(root, 'inside.csv'),
    );
    inputs = new ExecutionInputs({
      uploads: new Uploads(path.join(tmp, 'uploads'), 1024),
      connections: new BatchConnections(undefined),
      allowedInputRoots: [root],
      allowedUrlHosts: ['localhost', '*.corp.example'],
    });
  });
  afterAll(() => fs.promises.rm(tmp, { recursive: true, force: true }));

  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['10.1.2.3', true],
    ['172.20.0.1', true],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['224.0.0.1', true],
    ['::1', true],
    ['::', true],
    ['fe80::1', true],
    ['fd00::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:10.0.0.1', true],
    ['8.8.8.8', false],
    ['140.82.112.3', false],
    ['2606:4700::1111', false],
    ['not an address', true],
  ])('calls %s non-public: %s', (address, expected) => {
    expect(isNonPublicAddress(address)).toBe(expected);
  });

  it('resolves server paths, symlinks included, against the allowed roots', async () => {
    const root = path.join(tmp, 'inputs');
    expect(await inputs.resolvePath(path.join(root, 'inside.csv'), 'f')).toBe(
      await fs.promises.realpath(path.join(root, 'ok.csv')),
    );
    await expect(
      inputs.resolvePath(path.join(root, 'escape.csv'), 'body.input.path'),
    ).rejects.toThrow(
      /^body.input.path: .*escape.csv is not under a directory in mlPlatform.batch.allowedInputRoots/,
    );
    await expect(
      inputs.resolvePath(path.join(root, '..', 'x.csv'), 'f'),
    ).rejects.toThrow(/is not under a directory/);
    await expect(
      inputs.resolvePath(path.join(root, 'missing.csv'), 'f'),
    ).rejects.toThrow(/does not exist/);
    await expect(
      inputs.resolvePath(path.join(root, 'dir'), 'f'),
    ).rejects.toThrow(/is not a file/);
  });

  it('refuses URLs to private hosts unless allowed, and credentials in URLs', async () => {
    await expect(
      inputs.checkUrl('http://127.0.0.1:7007/x', 'body.input.url'),
    ).rejects.toThrow(
      /^body.input.url: 127.0.0.1 is a loopback, link-local or private address; add it to mlPlatform.batch.allowedUrlHosts/,
    );
    await expect(inputs.checkUrl('http://[fe80::1]/x', 'u')).rejects.toThrow(
      /loopback, link-local or private/,
    );
    // Allowed by name, with no lookup.
    await expect(
      inputs.checkUrl('http://localhost:9/x.csv', 'u'),
    ).resolves.toBeUndefined();
    await expect(
      inputs.checkUrl('https://data.corp.example/x.csv', 'u'),
    ).resolves.toBeUndefined();
    await expect(inputs.checkUrl('ftp://example.com/x', 'u')).rejects.toThrow(
      'u: expected an http(s) URL',
    );
    await expect(
      inputs.checkUrl('https://ada:pw@example.com/x', 'u'),
    ).rejects.toThrow(/credentials/);
    await expect(
      inputs.checkUrl('https://no-such-host.invalid/x', 'u'),
    ).rejects.toThrow('u: cannot resolve the host no-such-host.invalid');
  });

  it('refuses uploads that do not exist, naming the field', async () => {
    await expect(
      inputs.checkInput(
        'component:default/churn',
        { type: 'upload', uploadId: '00000000-0000-4000-8000-000000000000' },
        'body.batch.input',
      ),
    ).rejects.toThrow(/^body.batch.input.uploadId: no upload/);
  });
});
