import type { Config } from '@backstage/config';
import path from 'node:path';

/** Where the platform keeps its files on this host. @public */
export interface MlPlatformPaths {
  /** `mlPlatform.dataDir`, default `.data/ml-platform`. */
  dataDir: string;
  /** Bare repositories of the embedded Git hosting: `mlPlatform.git.root`, default `<dataDir>/git`. */
  gitRoot: string;
}

/**
 * Resolves the platform's directories from config; relative paths resolve
 * against the backend's working directory, as Backstage does for files.
 *
 * @public
 */
export function readMlPlatformPaths(config: Config): MlPlatformPaths {
  const dataDir = path.resolve(
    config.getOptionalString('mlPlatform.dataDir') ?? '.data/ml-platform',
  );
  const gitRoot = config.getOptionalString('mlPlatform.git.root');
  return {
    dataDir,
    gitRoot: gitRoot ? path.resolve(gitRoot) : path.join(dataDir, 'git'),
  };
}
