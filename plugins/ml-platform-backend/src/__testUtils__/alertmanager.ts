import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { waitFor } from './modelRepository';

export const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';

/** Whether Debian's prometheus, promtool and prometheus-alertmanager are here. */
export function haveAlertingBinaries(): boolean {
  const onPath = (command: string) =>
    spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
  return (
    onPath('prometheus') && onPath('promtool') && fs.existsSync(ALERTMANAGER)
  );
}

/** `promtool check rules` on a rule file: exit code and what it said. */
export function promtoolCheckRules(file: string): {
  status: number | null;
  output: string;
} {
  const result = spawnSync('promtool', ['check', 'rules', file], {
    encoding: 'utf8',
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/**
 * Debian's `prometheus-alertmanager`, started on `port` with a generated
 * configuration (no clustering), its data in `dir`.
 */
export class AlertmanagerServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    private readonly log: () => string,
  ) {}

  static async start(options: {
    port: number;
    dir: string;
    /** alertmanager.yml, as YAML. */
    config: string;
  }): Promise<AlertmanagerServer> {
    const config = path.join(options.dir, 'alertmanager.yml');
    fs.writeFileSync(config, options.config);
    let output = '';
    const child = spawn(
      ALERTMANAGER,
      [
        `--config.file=${config}`,
        `--storage.path=${path.join(options.dir, 'alertmanager')}`,
        `--web.listen-address=127.0.0.1:${options.port}`,
        '--cluster.listen-address=',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', d => (output += d));
    child.stderr!.on('data', d => (output += d));
    const url = `http://127.0.0.1:${options.port}`;
    await waitFor(
      async () => {
        if (child.exitCode !== null) {
          throw new Error(`alertmanager exited: ${output.slice(-2000)}`);
        }
        return (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok;
      },
      { what: 'alertmanager to be ready', timeoutMs: 30_000 },
    );
    return new AlertmanagerServer(child, url, () => output);
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
