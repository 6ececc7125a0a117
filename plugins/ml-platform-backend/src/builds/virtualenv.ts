import path from 'node:path';
import { PlatformConfig } from '../platformConfig';
import { SANDBOX_PATH, Sandbox } from '../sandbox/Sandbox';
import { runProcess, RunProcessResult } from '../util/runProcess';

/**
 * The requirements file of a model, if it lists anything to install. It is
 * read the way the sandbox user sees it (it is the model's own file).
 */
export async function requirementsToInstall(
  sandbox: Sandbox,
  modelDir: string,
  relativePath = 'requirements.txt',
): Promise<string | undefined> {
  const file = path.join(modelDir, relativePath);
  let text: string;
  try {
    text = await sandbox.readFile(file);
  } catch {
    return undefined;
  }
  const meaningful = text
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

/** The pip settings of `mlPlatform.builds.pip` as pip's own variables. */
export function pipEnv(
  pip: PlatformConfig['builds']['pip'],
): Record<string, string | undefined> {
  return {
    PIP_INDEX_URL: pip.indexUrl,
    PIP_EXTRA_INDEX_URL: pip.extraIndexUrl,
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_NO_INPUT: '1',
  };
}

/**
 * Creates a virtualenv and installs a model's requirements into it, both in
 * the sandbox (pip runs the packages' build code); pip makes a venv take
 * seconds, so a model with nothing to install gets one without. With
 * `mlPlatform.builds.systemSitePackages` the venv also sees the base
 * interpreter's packages. The venv directory must exist, empty and owned by
 * the sandbox user. Resolves with a one-sentence error, or undefined on
 * success.
 */
export async function createVirtualenv(options: {
  config: Pick<PlatformConfig, 'builds'>;
  sandbox: Sandbox;
  venvDir: string;
  modelDir: string;
  /** HOME of the sandboxed commands (pip's cache goes there). */
  home: string;
  /** The manifest's `spec.python`, if any (see {@link Sandbox.baseInterpreter}). */
  python?: string;
  requirements?: string;
  onLine: (line: string) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
}): Promise<{ error?: string; timedOut?: boolean }> {
  const { config, requirements, sandbox } = options;
  const env = sandbox.env(options.home, {
    ...pipEnv(config.builds.pip),
    PATH: `${path.join(options.venvDir, 'bin')}:${SANDBOX_PATH}`,
    TMPDIR: options.home,
  });
  const run = (command: string, args: string[]) =>
    runProcess({
      ...sandbox.wrap('build', command, args),
      cwd: options.modelDir,
      env,
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      onLine: line => options.onLine(line),
    });

  const base = sandbox.baseInterpreter(options.python);
  if ('error' in base) return base;
  const venv = await run(base.python, [
    '-m',
    'venv',
    ...(requirements ? [] : ['--without-pip']),
    ...(config.builds.systemSitePackages ? ['--system-site-packages'] : []),
    '--',
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
