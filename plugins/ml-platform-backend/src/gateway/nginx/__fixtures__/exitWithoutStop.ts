// A backend process that starts the native data plane and exits without
// stopping it (as on an uncaught error): prints nginx's pids first.
// Run by NginxGateway.process.test.ts with the CLI's TypeScript transform.
import fs from 'node:fs';
import path from 'node:path';
import { childrenOf, NginxGateway } from '../NginxGateway';

const quiet = {
  info() {},
  warn() {},
  error() {},
  debug() {},
  child: () => quiet,
};

async function main() {
  const [dataDir, port] = process.argv.slice(2);
  const gateway = new NginxGateway({
    config: {
      whenInstalled: false,
      command: '/usr/sbin/nginx',
      modulesDir: '/usr/lib/nginx/modules',
      host: '127.0.0.1',
      port: Number(port),
      workers: 2,
    },
    limits: {
      maxBodyBytes: 1024,
      maxElements: 100,
      maxJsonDepth: 8,
      timeoutMs: 1000,
    },
    dataDir,
    // Never reached: no call comes in before the process exits.
    gateway: {} as any,
    invocations: {} as any,
    httpAuth: {} as any,
    logger: quiet as any,
  });
  await gateway.start();
  // Running a while: the gateway has seen nginx's workers (every 200 ms).
  await new Promise(r => setTimeout(r, 600));
  const master = Number(
    fs.readFileSync(path.join(dataDir, 'gateway-nginx', 'nginx.pid'), 'utf8'),
  );
  process.stdout.write(
    `${JSON.stringify({ master, workers: childrenOf(master) })}\n`,
  );
  process.exit(1);
}

main().catch(error => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(2);
});
