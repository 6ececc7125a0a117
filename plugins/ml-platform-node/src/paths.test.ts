import { ConfigReader } from '@backstage/config';
import path from 'node:path';
import { readMlPlatformPaths } from './paths';

describe('readMlPlatformPaths', () => {
  it('defaults under the working directory', () => {
    expect(readMlPlatformPaths(new ConfigReader({}))).toEqual({
      dataDir: path.resolve('.data/ml-platform'),
      gitRoot: path.resolve('.data/ml-platform/git'),
    });
  });

  it('follows the configured directories', () => {
    expect(
      readMlPlatformPaths(
        new ConfigReader({ mlPlatform: { dataDir: '/srv/mlp' } }),
      ),
    ).toEqual({ dataDir: '/srv/mlp', gitRoot: '/srv/mlp/git' });
    expect(
      readMlPlatformPaths(
        new ConfigReader({
          mlPlatform: { dataDir: '/srv/mlp', git: { root: '/git' } },
        }),
      ).gitRoot,
    ).toBe('/git');
  });
});
