import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { waitFor } from './modelRepository';

/** A TCP port nothing listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** `promtool check metrics` on an exposition: exit code and what it said. */
export function promtoolCheckMetrics(text: string): {
  status: number | null;
  output: string;
} {
  const result = spawnSync('promtool', ['check', 'metrics'], {
    input: text,
    encoding: 'utf8',
  });
  if (result.error) {
    throw new Error(
      `promtool is not installed (apt-get install prometheus): ${result.error.message}`,
    );
  }
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/**
 * Debian's `prometheus`, started on `port` with a generated configuration,
 * its data in `dir`; `query` asks its HTTP API.
 */
export class PrometheusServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    private readonly log: () => string,
  ) {}

  static async start(options: {
    port: number;
    dir: string;
    /** The `scrape_configs` of prometheus.yml, as YAML. */
    scrapeConfigs: string;
    /** More top-level sections (`rule_files`, `alerting`), as YAML. */
    extraConfig?: string;
  }): Promise<PrometheusServer> {
    const config = path.join(options.dir, 'prometheus.yml');
    fs.writeFileSync(
      config,
      `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n${
        options.extraConfig ?? ''
      }\nscrape_configs:\n${options.scrapeConfigs}`,
    );
    let output = '';
    const child = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${path.join(options.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${options.port}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', d => (output += d));
    child.stderr!.on('data', d => (output += d));
    const url = `http://127.0.0.1:${options.port}`;
    const server = new PrometheusServer(child, url, () => output);
    await waitFor(
      async () => {
        if (child.exitCode !== null) {
          throw new Error(`prometheus exited: ${output.slice(-2000)}`);
        }
        return (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok;
      },
      { what: 'prometheus to be ready', timeoutMs: 30_000 },
    );
    return server;
  }

  /** An instant query's result vector. */
  async query(
    promql: string,
  ): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const response = await fetch(
      `${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`,
    );
    const body = await response.json();
    if (body.status !== 'success') {
      throw new Error(`query ${promql}: ${JSON.stringify(body)}`);
    }
    return body.data.result;
  }

  /** The targets Prometheus scrapes, with their health. */
  async targets(): Promise<
    { labels: Record<string, string>; health: string; lastError: string }[]
  > {
    const body = await (await fetch(`${this.url}/api/v1/targets`)).json();
    return body.data.activeTargets;
  }

  get output() {
    return this.log();
  }

  async stop() {
    if (this.child.exitCode !== null) return;
    const exited = new Promise(resolve => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
