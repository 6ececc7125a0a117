import { PermissionsService } from '@backstage/backend-plugin-api';
import { mockCredentials } from '@backstage/backend-test-utils';
import {
  AuthorizeResult,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import { createAuthorizeModelAction } from './authorizeModel';

/** The decision a policy gives, whatever is asked. */
function answering(decision: PolicyDecision): PermissionsService {
  return {
    authorize: async () => [{ result: AuthorizeResult.DENY }],
    authorizeConditional: async requests => requests.map(() => decision),
  } as PermissionsService;
}

const isOwner = (claims: string[]) => ({
  rule: 'IS_ENTITY_OWNER',
  resourceType: 'catalog-entity',
  params: { claims },
});

const conditional = (conditions: any): PolicyDecision => ({
  result: AuthorizeResult.CONDITIONAL,
  pluginId: 'catalog',
  resourceType: 'catalog-entity',
  conditions,
});

async function run(
  decision: PolicyDecision,
  input: object,
  credentials = mockCredentials.user('user:default/ada'),
) {
  const ctx = {
    ...createMockActionContext({ input: input as any }),
    getInitiatorCredentials: async () => credentials,
  };
  await createAuthorizeModelAction({
    permissions: answering(decision),
  }).handler(ctx as any);
}

const newModel = { entityRef: 'fraud-score', owner: 'data-science' };
const adaClaims = ['user:default/ada', 'group:default/data-science'];

describe('ml-platform:model:authorize', () => {
  it("applies the policy's ownership condition to the model about to be created", async () => {
    await expect(
      run(conditional(isOwner(adaClaims)), newModel),
    ).resolves.toBeUndefined();
    await expect(
      run(conditional(isOwner(['user:default/ada'])), newModel),
    ).rejects.toThrow(
      'user:default/ada is not an owner of component:default/fraud-score: it would be owned by group:default/data-science',
    );
    await expect(
      run(conditional(isOwner(['user:default/ada'])), {
        entityRef: 'fraud-score',
        owner: 'user:default/ada',
      }),
    ).resolves.toBeUndefined();
  });

  it('follows allOf, anyOf and not, and refuses rules it cannot decide before the entity exists', async () => {
    const other = isOwner(['group:default/web']);
    await expect(
      run(conditional({ anyOf: [other, isOwner(adaClaims)] }), newModel),
    ).resolves.toBeUndefined();
    await expect(
      run(conditional({ allOf: [other, isOwner(adaClaims)] }), newModel),
    ).rejects.toThrow(/is not an owner/);
    await expect(
      run(conditional({ not: other }), newModel),
    ).resolves.toBeUndefined();
    await expect(
      run(
        conditional({
          rule: 'HAS_LABEL',
          resourceType: 'catalog-entity',
          params: { label: 'x' },
        }),
        newModel,
      ),
    ).rejects.toThrow(
      "The permission policy's rule HAS_LABEL cannot be decided before the model's entity exists",
    );
  });

  it('takes a definitive decision as it is, and refuses services', async () => {
    await expect(
      run({ result: AuthorizeResult.ALLOW }, newModel),
    ).resolves.toBeUndefined();
    await expect(
      run({ result: AuthorizeResult.DENY }, newModel),
    ).rejects.toThrow(/user:default\/ada is not an owner/);
    await expect(
      run(
        { result: AuthorizeResult.ALLOW },
        newModel,
        mockCredentials.service('external:ci') as any,
      ),
    ).rejects.toThrow(
      'service:external:ci is not a user: only users create models',
    );
  });

  it('names a bad input field', async () => {
    await expect(
      run({ result: AuthorizeResult.ALLOW }, { entityRef: 'x' }),
    ).rejects.toThrow('input.owner: is required');
  });
});
