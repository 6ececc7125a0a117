import { ResponseError } from '@backstage/errors';
import { MlPlatformService } from '@internal/plugin-ml-platform-node';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { z } from 'zod/v3';
import { entityRefField, modelRef, parseInput, waitFor } from './util';

const inputSchema = z.object({
  entityRef: entityRefField,
  gitUrl: z
    .string()
    .min(1)
    .optional()
    .describe("Clone URL; defaults to the entity's source location"),
  gitPath: z
    .string()
    .regex(/^(?!\/)(?!.*\.\.)[\w./-]*$/, {
      message: 'expected a relative path inside the repository',
    })
    .optional()
    .describe("The model's directory inside the repository"),
  defaultBranch: z
    .string()
    .regex(/^[\w./-]+$/, { message: 'expected a branch name' })
    .optional(),
  build: z
    .boolean()
    .optional()
    .describe('Start the first build (default true)'),
  waitForEntitySeconds: z.number().int().min(1).max(900).optional(),
});

/**
 * `ml-platform:model:register`: makes sure the catalog has the model, enables
 * it on the platform and starts its first build.
 */
export function createRegisterModelAction(options: {
  mlPlatform: MlPlatformService;
}) {
  return createTemplateAction({
    id: 'ml-platform:model:register',
    description:
      'Enables a model on the ML platform (waiting for its catalog entity to appear) and starts its first build',
    examples: [
      {
        description:
          'Register a model published with ml-platform:publish:git and build it',
        example: [
          'steps:',
          '  - id: register',
          '    action: ml-platform:model:register',
          '    input:',
          '      entityRef: component:default/${{ parameters.name }}',
          '      gitUrl: ${{ steps.publish.output.repoUrl }}',
        ].join('\n'),
      },
    ],
    schema: {
      input: {
        entityRef: () => inputSchema.shape.entityRef,
        gitUrl: () => inputSchema.shape.gitUrl,
        gitPath: () => inputSchema.shape.gitPath,
        defaultBranch: () => inputSchema.shape.defaultBranch,
        build: () => inputSchema.shape.build,
        waitForEntitySeconds: () => inputSchema.shape.waitForEntitySeconds,
      },
      output: {
        modelRef: zImpl =>
          zImpl.string().describe('e.g. component:default/churn'),
        buildId: zImpl => zImpl.string().optional().describe('The first build'),
        buildVersion: zImpl => zImpl.number().optional(),
      },
    },
    async handler(ctx) {
      const input = parseInput(inputSchema, ctx.input);
      const ref = modelRef(input.entityRef);
      const credentials = await ctx.getInitiatorCredentials();
      const api = options.mlPlatform.forCredentials(credentials);

      const wait = (input.waitForEntitySeconds ?? 120) * 1000;
      ctx.logger.info(
        `Waiting for ${ref.namespace}/${ref.name} in the catalog`,
      );
      await waitFor(
        async () => {
          try {
            return await api.getModel(ref);
          } catch (error) {
            if (error instanceof ResponseError && error.statusCode === 404)
              return undefined;
            throw error;
          }
        },
        {
          timeoutMs: wait,
          what: `the catalog to show component:${ref.namespace}/${ref.name} as an ml-model`,
          signal: ctx.signal,
        },
      );
      const model = await api.registerModel(ref, {
        gitUrl: input.gitUrl,
        gitPath: input.gitPath,
        defaultBranch: input.defaultBranch,
      });
      ctx.output('modelRef', model.ref);
      ctx.logger.info(`Registered ${model.ref} on the ML platform`);

      if (input.build ?? true) {
        const build = await api.createBuild(
          ref,
          input.defaultBranch ? { branch: input.defaultBranch } : {},
        );
        ctx.logger.info(
          `Build v${build.version} of ${model.ref} is ${build.status} (${build.id})`,
        );
        ctx.output('buildId', build.id);
        ctx.output('buildVersion', build.version);
      }
    },
  });
}
