import { LoggerService } from '@backstage/backend-plugin-api';
import { publishDirectory } from '@internal/plugin-ml-platform-node';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PlatformStores } from '../database';
import { SeedRepository } from '../platformConfig';

/**
 * On first start, turns local directories into Git repositories under the
 * git root and registers their models, so the example models build on a
 * fresh clone with no Git server. A repository that exists is left alone:
 * later pushes to it are the owner's.
 */
export async function seedRepositories(options: {
  seeds: SeedRepository[];
  gitRoot: string;
  stores: Pick<PlatformStores, 'models'>;
  logger: LoggerService;
}): Promise<void> {
  for (const seed of options.seeds) {
    const repoPath = path.join(options.gitRoot, `${seed.name}.git`);
    if (!fs.existsSync(repoPath)) {
      if (!fs.existsSync(seed.from)) {
        options.logger.warn(
          `Cannot seed ${seed.name}: ${seed.from} does not exist`,
        );
        continue;
      }
      await publishDirectory({
        sourceDir: seed.from,
        repoPath,
        branch: 'main',
        message: 'Initial commit',
        author: { name: 'ML Platform', email: 'ml-platform@backstage.local' },
        exclude: ['__pycache__/', '*.pyc', '.venv/'],
      });
      options.logger.info(`Seeded ${repoPath} from ${seed.from}`);
    }
    const url = pathToFileURL(repoPath).href;
    for (const model of seed.models) {
      const existing = await options.stores.models.getModel(model.entityRef);
      if (existing?.gitUrl && existing.gitUrl !== url) continue;
      await options.stores.models.upsertModel({
        entityRef: model.entityRef,
        gitUrl: url,
        gitPath: model.path,
        defaultBranch: 'main',
      });
    }
  }
}
