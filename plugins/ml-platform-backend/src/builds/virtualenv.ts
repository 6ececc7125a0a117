import fs from 'node:fs';
import path from 'node:path';
import { PlatformConfig } from '../platformConfig';
import { runProcess, RunProcessResult } from '../util/runProcess';

/** The requirements file of a model, if it lists anything to install. */
export function requirementsToInstall(
  modelDir: string,
  relativePath = 'requirements.txt',
): string | undefined {
  const file = path.join(modelDir, relativePath);
  if (!fs.existsSync(file)) return undefined;
  const meaningful = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .some(l => l.trim() && !l.trim().startsWith('#'));
  return meaningful ? file : undefined;
}

export function lastMeaningfulLine(
  result: RunProcessResult,
): string | undefined {
  return [...result.tail]
    .reverse()
    .find(l => l.trim() && !/^-+$/.test(l.trim()))
    ?.trim();
}

/**
 * The interpreter a model's venv is created from: its manifest's
 * `spec.python` when the platform allows it (`mlPlatform.python` and
 * `mlPlatform.builds.allowedPythons`: vetted base interpreters, e.g. one with
 * numpy and scikit-learn installed), else `mlPlatform.python`.
 */
export function baseInterpreter(
  config: Pick<PlatformConfig, 'python' | 'builds'>,
  requested?: string,
): { python: string } | { error: string } {
  if (!requested || requested === config.python)
    return { python: config.python };
  if (!config.builds.allowedPythons.includes(requested)) {
    const allowed = [config.python, ...config.builds.allowedPythons].join(', ');
    return {
      error: `spec.python: ${requested} is not an interpreter this platform allows (mlPlatform.builds.allowedPythons: ${allowed})`,
    };
  }
  return { python: requested };
}

/**
 * Creates a virtualenv and installs a model's requirements into it; pip makes
 * a venv take seconds, so a model with nothing to install gets one without.
 * With `mlPlatform.builds.systemSitePackages` the venv also sees the base
 * interpreter's packages. Resolves with a one-sentence error, or undefined on
 * success.
 */
export async function createVirtualenv(options: {
  config: Pick<PlatformConfig, 'python' | 'builds'>;
  venvDir: string;
  modelDir: string;
  /** The manifest's `spec.python`, if any. */
  python?: string;
  requirements?: string;
  onLine: (line: string) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
}): Promise<{ error?: string; timedOut?: boolean }> {
  const { config, requirements } = options;
  const run = (command: string, args: string[]) =>
    runProcess({
      command,
      args,
      cwd: options.modelDir,
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      onLine: line => options.onLine(line),
    });

  const base = baseInterpreter(config, options.python);
  if ('error' in base) return base;
  const venv = await run(base.python, [
    '-m',
    'venv',
    ...(requirements ? [] : ['--without-pip']),
    ...(config.builds.systemSitePackages ? ['--system-site-packages'] : []),
    options.venvDir,
  ]);
  if (venv.timedOut) return { timedOut: true };
  if (venv.exitCode !== 0) {
    return {
      error: `could not create a virtualenv: ${
        lastMeaningfulLine(venv) ?? `exit ${venv.exitCode}`
      }`,
    };
  }
  if (!requirements) {
    options.onLine('No requirements to install');
    return {};
  }
  const { pip } = config.builds;
  const args = [
    '-m',
    'pip',
    'install',
    '--disable-pip-version-check',
    '--no-input',
    '-r',
    requirements,
  ];
  if (pip.indexUrl) args.push('--index-url', pip.indexUrl);
  if (pip.extraIndexUrl) args.push('--extra-index-url', pip.extraIndexUrl);
  args.push(...pip.extraArgs);
  const install = await run(path.join(options.venvDir, 'bin', 'python'), args);
  if (install.timedOut) return { timedOut: true };
  if (install.exitCode !== 0) {
    return {
      error: `pip install failed (exit ${install.exitCode}): ${
        lastMeaningfulLine(install) ?? 'no output'
      }`,
    };
  }
  return {};
}
