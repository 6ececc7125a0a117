import {
  LoggerService,
  SchedulerServiceTaskRunner,
} from '@backstage/backend-plugin-api';
import {
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
  ANNOTATION_SOURCE_LOCATION,
  Entity,
} from '@backstage/catalog-model';
import {
  EntityProvider,
  EntityProviderConnection,
} from '@backstage/plugin-catalog-node';
import { GitCommandError, runGit } from '@internal/plugin-ml-platform-node';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseAllDocuments } from 'yaml';

/**
 * Entities of the bare repositories under the platform's git root: whatever
 * `catalog-info.yaml` says at the head of each repository. Only repositories
 * the platform created are read, so this needs no file locations in the
 * catalog API (which Backstage keeps off for good reason).
 */
export class GitRootEntityProvider implements EntityProvider {
  private connection?: EntityProviderConnection;

  constructor(
    private readonly gitRoot: string,
    private readonly logger: LoggerService,
    private readonly taskRunner: SchedulerServiceTaskRunner,
  ) {}

  getProviderName() {
    return 'ml-platform-git-root';
  }

  async connect(connection: EntityProviderConnection): Promise<void> {
    this.connection = connection;
    await this.taskRunner.run({
      id: `${this.getProviderName()}:refresh`,
      fn: async () => {
        await this.refresh();
      },
    });
  }

  /** Reads every repository and replaces what this provider emitted before. */
  async refresh(): Promise<Entity[]> {
    if (!this.connection)
      throw new Error('The entity provider is not connected');
    const entities: Entity[] = [];
    const repos = fs.existsSync(this.gitRoot)
      ? (await fs.promises.readdir(this.gitRoot)).filter(d =>
          d.endsWith('.git'),
        )
      : [];
    for (const repo of repos) {
      entities.push(
        ...(await this.readRepository(path.join(this.gitRoot, repo))),
      );
    }
    await this.connection.applyMutation({
      type: 'full',
      entities: entities.map(entity => ({
        entity,
        locationKey: `${this.getProviderName()}:${this.gitRoot}`,
      })),
    });
    return entities;
  }

  private async readRepository(repoPath: string): Promise<Entity[]> {
    let text: string;
    try {
      text = await runGit(['show', 'HEAD:catalog-info.yaml'], {
        cwd: repoPath,
      });
    } catch (error) {
      // An empty repository, or one without an entity at its root.
      if (error instanceof GitCommandError) return [];
      throw error;
    }
    const url = pathToFileURL(repoPath).href;
    const location = `url:${url}/catalog-info.yaml`;
    const entities: Entity[] = [];
    for (const doc of parseAllDocuments(text)) {
      const entity = doc.toJS() as Entity | null;
      if (!entity?.kind || !entity.metadata?.name) {
        this.logger.warn(
          `${repoPath}: catalog-info.yaml holds a document that is not an entity`,
        );
        continue;
      }
      entity.metadata.annotations = {
        ...entity.metadata.annotations,
        [ANNOTATION_LOCATION]: location,
        [ANNOTATION_ORIGIN_LOCATION]: location,
        [ANNOTATION_SOURCE_LOCATION]: `url:${url}`,
      };
      entities.push(entity);
    }
    return entities;
  }
}
