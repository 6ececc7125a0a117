import { mockServices } from '@backstage/backend-test-utils';
import { EntityProviderConnection } from '@backstage/plugin-catalog-node';
import { publishDirectory, runGit } from '@internal/plugin-ml-platform-node';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GitRootEntityProvider } from './GitRootEntityProvider';

const author = { name: 'Ada', email: 'ada@example.com' };
const entityYaml = (name: string) =>
  `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\nspec:\n  type: ml-model\n  owner: group:default/data-science\n  lifecycle: experimental\n`;

describe('GitRootEntityProvider', () => {
  it('emits the entity at the head of each repository, and follows pushes', async () => {
    const tmp = await fs.promises.mkdtemp(
      path.join(os.tmpdir(), 'mlp-provider-'),
    );
    const gitRoot = path.join(tmp, 'git');
    for (const name of ['fraud', 'no-entity']) {
      const dir = path.join(tmp, 'src', name);
      await fs.promises.mkdir(dir, { recursive: true });
      await fs.promises.writeFile(
        path.join(dir, name === 'fraud' ? 'catalog-info.yaml' : 'model.py'),
        name === 'fraud' ? entityYaml('fraud') : 'x = 1\n',
      );
      await publishDirectory({
        sourceDir: dir,
        repoPath: path.join(gitRoot, `${name}.git`),
        branch: 'main',
        message: 'init',
        author,
      });
    }
    // Something else under the git root that is not a repository.
    await fs.promises.mkdir(path.join(gitRoot, 'notes'));

    const mutations: any[] = [];
    const connection: EntityProviderConnection = {
      applyMutation: async m => {
        mutations.push(m);
      },
      refresh: async () => {},
    };
    const provider = new GitRootEntityProvider(
      gitRoot,
      mockServices.logger.mock(),
      {
        run: async () => {},
      },
    );
    await provider.connect(connection);

    const [entity] = await provider.refresh();
    const url = `file://${path.join(gitRoot, 'fraud.git')}`;
    expect(mutations.at(-1)).toMatchObject({ type: 'full' });
    expect(mutations.at(-1).entities).toHaveLength(1);
    expect(entity.metadata).toMatchObject({
      name: 'fraud',
      annotations: {
        'backstage.io/managed-by-location': `url:${url}/catalog-info.yaml`,
        'backstage.io/source-location': `url:${url}`,
      },
    });

    // A push that renames the model changes the entity.
    const work = path.join(tmp, 'work');
    await runGit(['clone', '--quiet', path.join(gitRoot, 'fraud.git'), work]);
    await fs.promises.writeFile(
      path.join(work, 'catalog-info.yaml'),
      entityYaml('fraud-v2'),
    );
    const env = {
      GIT_AUTHOR_NAME: 'A',
      GIT_AUTHOR_EMAIL: 'a@x',
      GIT_COMMITTER_NAME: 'A',
      GIT_COMMITTER_EMAIL: 'a@x',
    };
    await runGit(['commit', '-qam', 'rename'], { cwd: work, env });
    await runGit(['push', '-q', 'origin', 'HEAD:main'], { cwd: work });
    const [renamed] = await provider.refresh();
    expect(renamed.metadata.name).toBe('fraud-v2');
    await fs.promises.rm(tmp, { recursive: true, force: true });
  });
});
