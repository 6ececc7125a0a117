// Debian's nginx as a peer proxy for the benchmarks: started from a
// generated configuration on a free port, proxying to one upstream over
// keep-alive connections, as a production reverse proxy would.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sleep, waitUntil } from './portal.mjs';

export const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx';

/** Signals a child process, and kills it if it is still there after 3 s. */
export async function stopChild(child, signal = 'SIGTERM') {
  if (child.exitCode !== null) return;
  const exited = new Promise(resolve => child.once('exit', resolve));
  child.kill(signal);
  await Promise.race([exited, sleep(3000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/** A TCP port nothing listens on now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts nginx in the foreground (one worker, like the backend's one event
 * loop; no access log, like the gateway) proxying every path to `upstream`
 * (`host:port`) with HTTP/1.1 keep-alive. Returns its URL, its master pid
 * and how to stop it.
 */
export async function startNginx({ upstream, dir, workers = 1 }) {
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(
    conf,
    `daemon off;
master_process on;
worker_processes ${workers};
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${path.join(dir, 'body')};
  proxy_temp_path ${path.join(dir, 'proxy')};
  fastcgi_temp_path ${path.join(dir, 'fastcgi')};
  uwsgi_temp_path ${path.join(dir, 'uwsgi')};
  scgi_temp_path ${path.join(dir, 'scgi')};
  upstream replica {
    server ${upstream};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    keepalive_requests 1000000;
    location / {
      proxy_pass http://replica;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering on;
    }
  }
}
`,
  );
  const child = spawn(
    NGINX,
    ['-p', dir, '-c', conf, '-e', path.join(dir, 'error.log')],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    async () => {
      if (child.exitCode !== null)
        throw new Error(`nginx exited ${child.exitCode}`);
      await new Promise((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.end();
          resolve();
        });
        socket.on('error', reject);
      });
      return true;
    },
    10_000,
    'nginx to listen',
  );
  return {
    url,
    pid: child.pid,
    // nginx's graceful stop.
    stop: () => stopChild(child, 'SIGQUIT'),
  };
}

/** An overlay turning the native data plane on, on a free port. */
export async function nativeOverlay() {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-bench-native-'));
  const overlay = path.join(dir, 'app-config.native.yaml');
  fs.writeFileSync(
    overlay,
    `mlPlatform:\n  gateway:\n    nginx:\n      enabled: true\n      port: ${port}\n`,
  );
  return {
    overlay,
    url: `http://127.0.0.1:${port}`,
    cleanup: () => fs.rmSync(dir, { recursive: true }),
  };
}
