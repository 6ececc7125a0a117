import { Config } from '@backstage/config';
import path from 'node:path';

/** The `mlPlatform` config with defaults applied and paths resolved. */
export interface PlatformConfig {
  dataDir: string;
  artifacts: { type: string; localDir: string };
}

export function readPlatformConfig(config: Config): PlatformConfig {
  const c = config.getOptionalConfig('mlPlatform');
  const dataDir = path.resolve(
    c?.getOptionalString('dataDir') ?? '.data/ml-platform',
  );
  return {
    dataDir,
    artifacts: {
      type: c?.getOptionalString('artifacts.type') ?? 'local',
      localDir: path.resolve(
        dataDir,
        c?.getOptionalString('artifacts.local.dir') ?? 'artifacts',
      ),
    },
  };
}
