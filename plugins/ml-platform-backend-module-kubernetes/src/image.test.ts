import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

const entrypoint = path.resolve(__dirname, '../image/mlp_pod.py');

/** Runs the image's entrypoint as the kubelet would, with this env. */
function run(command: string, env: Record<string, string>) {
  return new Promise<{ code: number | null; stderr: string }>(resolve => {
    const child = spawn('python3', [entrypoint, command], {
      env: { PATH: process.env.PATH!, ...env },
    });
    let stderr = '';
    child.stderr.on('data', d => (stderr += d));
    child.on('exit', code => resolve({ code, stderr }));
  });
}

describe('the runtime image entrypoint (mlp_pod.py)', () => {
  let dir: string;
  let server: http.Server;
  let url: string;
  let tarball: Buffer;
  const authorizations: string[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-pod-'));
    const model = path.join(dir, 'src');
    fs.mkdirSync(model);
    fs.writeFileSync(path.join(model, 'model.py'), 'class Model: pass\n');
    execFileSync('tar', ['-czf', path.join(dir, 'a.tar.gz'), '-C', model, '.']);
    tarball = fs.readFileSync(path.join(dir, 'a.tar.gz'));
    server = http.createServer((req, res) => {
      authorizations.push(String(req.headers.authorization));
      res.end(tarball);
    });
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/a`;
  });

  afterAll(async () => {
    await new Promise(r => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fetches the artifact with its token, checks the digest and unpacks it', async () => {
    const target = path.join(dir, 'ok');
    const digest = `sha256:${createHash('sha256')
      .update(tarball)
      .digest('hex')}`;
    const result = await run('fetch', {
      MLP_MODEL_DIR: target,
      MLP_ARTIFACT_URL: url,
      MLP_ARTIFACT_DIGEST: digest,
      MLP_ARTIFACT_TOKEN: 'scoped-token',
      MLP_SCHEMA: '{"inputs": []}',
    });
    expect(result).toMatchObject({ code: 0 });
    expect(authorizations.at(-1)).toBe('Bearer scoped-token');
    expect(fs.readFileSync(path.join(target, 'app', 'model.py'), 'utf8')).toBe(
      'class Model: pass\n',
    );
    expect(fs.readFileSync(path.join(target, 'schema.json'), 'utf8')).toBe(
      '{"inputs": []}',
    );
    expect(fs.existsSync(path.join(target, 'venv'))).toBe(false);
  });

  it('refuses an artifact whose digest does not match, leaving nothing behind', async () => {
    const target = path.join(dir, 'bad');
    const result = await run('fetch', {
      MLP_MODEL_DIR: target,
      MLP_ARTIFACT_URL: url,
      MLP_ARTIFACT_DIGEST: `sha256:${'0'.repeat(64)}`,
      MLP_ARTIFACT_TOKEN: 't',
    });
    expect(result.code).toBe(7);
    expect(result.stderr).toMatch(/digest mismatch/);
    expect(fs.readdirSync(path.join(target, 'app'))).toEqual([]);
    expect(fs.existsSync(path.join(target, 'artifact.tar.gz'))).toBe(false);
  });

  it('says what is missing', async () => {
    const result = await run('fetch', { MLP_MODEL_DIR: path.join(dir, 'x') });
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(/MLP_ARTIFACT_DIGEST is not set/);
  });
});
