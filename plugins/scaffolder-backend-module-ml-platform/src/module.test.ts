import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import request from 'supertest';
import { scaffolderModule } from './module';

describe('scaffolder module', () => {
  it('installs the ml-platform actions into the real scaffolder', async () => {
    const { server } = await startTestBackend({
      features: [
        scaffolderPlugin,
        scaffolderModule,
        catalogServiceMock.factory({ entities: [] }),
        mockServices.rootConfig.factory({ data: {} }),
      ],
    });
    const res = await request(server).get('/api/scaffolder/v2/actions');
    expect(res.status).toBe(200);
    const action = res.body.find(
      (a: any) => a.id === 'ml-platform:publish:git',
    );
    expect(action.schema.input.required).toEqual(['repoName']);
    expect(action.schema.output.properties.repoUrl.type).toBe('string');
  });
});
