import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { NotFoundError } from '@backstage/errors';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { ModelAccess } from '../access/ModelAccess';
import { ModelChanges } from '../activity/ModelChanges';
import { PlatformStores } from '../database';
import { mlModelComponent } from '../__testUtils__/churnReference';
import { ModelCatalog } from './ModelCatalog';

describe('ModelCatalog.assertVisible', () => {
  afterEach(() => jest.useRealTimers());

  it('asks the catalog once per caller and model for a few seconds, and never remembers a refusal', async () => {
    jest.useFakeTimers({
      now: 1_000_000,
      doNotFake: ['nextTick', 'setImmediate'],
    });
    const catalog = catalogServiceMock({
      entities: [mlModelComponent('churn')],
    });
    const lookups = jest.spyOn(catalog, 'getEntityByRef');
    const models = new ModelCatalog({
      catalog,
      stores: {} as PlatformStores,
      auth: mockServices.auth(),
      access: new ModelAccess(mockServices.permissions()),
      changes: {} as ModelChanges,
    });
    const ada = mockCredentials.user('user:default/ada');
    const bob = mockCredentials.user('user:default/bob');

    await models.assertVisible('component:default/churn', ada);
    await models.assertVisible('component:default/churn', ada);
    expect(lookups).toHaveBeenCalledTimes(1);
    // Another caller is asked about on their own.
    await models.assertVisible('component:default/churn', bob);
    expect(lookups).toHaveBeenCalledTimes(2);
    // After the few seconds, the catalog is asked again.
    jest.setSystemTime(1_000_000 + 10_001);
    await models.assertVisible('component:default/churn', ada);
    expect(lookups).toHaveBeenCalledTimes(3);

    for (let i = 0; i < 2; i++) {
      await expect(
        models.assertVisible('component:default/gone', ada),
      ).rejects.toThrow(
        new NotFoundError('No model component:default/gone in the catalog'),
      );
    }
    expect(lookups).toHaveBeenCalledTimes(5);
  });
});
