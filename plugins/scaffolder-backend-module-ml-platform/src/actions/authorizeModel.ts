import { PermissionsService } from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { NotAllowedError } from '@backstage/errors';
import {
  AuthorizeResult,
  PermissionCondition,
  PermissionCriteria,
} from '@backstage/plugin-permission-common';
import {
  isAndCriteria,
  isNotCriteria,
  isOrCriteria,
} from '@backstage/plugin-permission-node';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { mlPlatformModelRegisterPermission } from '@internal/plugin-ml-platform-common';
import { z } from 'zod/v3';
import { entityRefField, modelRef, ownerRef, parseInput } from './util';

const inputSchema = z.object({
  entityRef: entityRefField,
  owner: z
    .string({ required_error: 'is required' })
    .regex(/^([a-zA-Z]+:)?([a-z0-9A-Z_.-]+\/)?[a-z0-9A-Z_.-]+$/, {
      message: 'expected an entity ref like group:default/data-science',
    })
    .describe(
      'The owner the new model will have, e.g. group:default/data-science',
    ),
});

/** The catalog's `isEntityOwner` rule, as its permission integration names it. */
const IS_ENTITY_OWNER = 'IS_ENTITY_OWNER';

/**
 * Applies a conditional decision for `catalog-entity` to an entity that does
 * not exist yet, knowing only its owner. The catalog's ownership rule is the
 * only one that can be decided before the entity exists; any other rule
 * refuses, naming it.
 */
function ownerSatisfies(
  criteria: PermissionCriteria<PermissionCondition>,
  owner: string,
): boolean {
  if (isAndCriteria(criteria)) {
    return criteria.allOf.every(c => ownerSatisfies(c, owner));
  }
  if (isOrCriteria(criteria)) {
    return criteria.anyOf.some(c => ownerSatisfies(c, owner));
  }
  if (isNotCriteria(criteria)) {
    return !ownerSatisfies(criteria.not, owner);
  }
  if (criteria.rule !== IS_ENTITY_OWNER) {
    throw new NotAllowedError(
      `The permission policy's rule ${criteria.rule} cannot be decided before the model's entity exists`,
    );
  }
  const { claims } = criteria.params as { claims?: string[] };
  const wanted = owner.toLocaleLowerCase('en-US');
  return (claims ?? []).some(c => c.toLocaleLowerCase('en-US') === wanted);
}

/**
 * `ml-platform:model:authorize`: fails unless the template's initiator may
 * change a model with the given owner: the permission policy's decision on
 * `ml-platform.model.register` for the initiator, applied to the entity the
 * template is about to create. Runs first, so nothing is published for a
 * model its author may not own.
 */
export function createAuthorizeModelAction(options: {
  permissions: PermissionsService;
}) {
  return createTemplateAction({
    id: 'ml-platform:model:authorize',
    description:
      'Fails unless the initiator may own the new model (its owners and platform admins change a model); nothing is created',
    examples: [
      {
        description: 'Check the owner before publishing anything',
        example: [
          'steps:',
          '  - id: authorize',
          '    action: ml-platform:model:authorize',
          '    input:',
          '      entityRef: component:default/${{ parameters.name }}',
          '      owner: ${{ parameters.owner }}',
        ].join('\n'),
      },
    ],
    schema: {
      input: {
        entityRef: () => inputSchema.shape.entityRef,
        owner: () => inputSchema.shape.owner,
      },
    },
    async handler(ctx) {
      const input = parseInput(inputSchema, ctx.input);
      const entityRef = stringifyEntityRef({
        kind: 'component',
        ...modelRef(input.entityRef),
      });
      const owner = ownerRef(input.owner);
      const credentials = await ctx.getInitiatorCredentials();
      const principal = credentials.principal as {
        type: string;
        userEntityRef?: string;
        subject?: string;
      };
      if (principal.type !== 'user') {
        throw new NotAllowedError(
          `${
            principal.subject ? `service:${principal.subject}` : 'The initiator'
          } is not a user: only users create models`,
        );
      }
      const [decision] = await options.permissions.authorizeConditional(
        [{ permission: mlPlatformModelRegisterPermission }],
        { credentials },
      );
      const allowed =
        decision.result === AuthorizeResult.ALLOW ||
        (decision.result === AuthorizeResult.CONDITIONAL &&
          ownerSatisfies(decision.conditions, owner));
      if (!allowed) {
        throw new NotAllowedError(
          `${principal.userEntityRef} is not an owner of ${entityRef}: it would be owned by ${owner}`,
        );
      }
      ctx.logger.info(
        `${principal.userEntityRef} may create ${entityRef} owned by ${owner}`,
      );
    },
  });
}
