import { MlPlatformService } from '@internal/plugin-ml-platform-node';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { z } from 'zod/v3';
import { parseInput, waitFor } from './util';

const inputSchema = z.object({
  buildId: z
    .string({ required_error: 'is required' })
    .uuid({ message: 'expected the id of a build' }),
  timeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(3600)
    .optional()
    .describe('Default 900'),
});

/** `ml-platform:build:wait`: waits for a build and fails the step if it failed. */
export function createWaitForBuildAction(options: {
  mlPlatform: MlPlatformService;
}) {
  return createTemplateAction({
    id: 'ml-platform:build:wait',
    description:
      'Waits for an ML platform build to end; fails with its reason if it did not succeed',
    examples: [
      {
        description: 'Wait for the first build',
        example: [
          'steps:',
          '  - id: build',
          '    action: ml-platform:build:wait',
          '    input:',
          '      buildId: ${{ steps.register.output.buildId }}',
        ].join('\n'),
      },
    ],
    schema: {
      input: {
        buildId: () => inputSchema.shape.buildId,
        timeoutSeconds: () => inputSchema.shape.timeoutSeconds,
      },
      output: {
        status: zImpl => zImpl.string(),
        version: zImpl => zImpl.number(),
        artifactDigest: zImpl => zImpl.string().optional(),
      },
    },
    async handler(ctx) {
      const input = parseInput(inputSchema, ctx.input);
      const api = options.mlPlatform.forCredentials(
        await ctx.getInitiatorCredentials(),
      );
      const reported = new Set<string>();
      const build = await waitFor(
        async () => {
          const b = await api.getBuild(input.buildId);
          for (const step of b.steps) {
            const key = `${step.name}:${step.status}`;
            if (step.status !== 'pending' && !reported.has(key)) {
              reported.add(key);
              ctx.logger.info(
                `v${b.version} ${step.name}: ${step.status}${
                  step.durationMs !== undefined
                    ? ` (${step.durationMs} ms)`
                    : ''
                }`,
              );
            }
          }
          return ['succeeded', 'failed', 'cancelled'].includes(b.status)
            ? b
            : undefined;
        },
        {
          timeoutMs: (input.timeoutSeconds ?? 900) * 1000,
          what: `build ${input.buildId}`,
          signal: ctx.signal,
        },
      );
      ctx.output('status', build.status);
      ctx.output('version', build.version);
      if (build.artifactDigest)
        ctx.output('artifactDigest', build.artifactDigest);
      if (build.status !== 'succeeded') {
        throw new Error(
          `Build v${build.version} ${build.status}: ${
            build.failureReason ?? 'no reason given'
          }`,
        );
      }
    },
  });
}
