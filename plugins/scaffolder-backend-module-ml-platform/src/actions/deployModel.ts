import { MlPlatformService } from '@internal/plugin-ml-platform-node';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { z } from 'zod/v3';
import { entityRefField, modelRef, parseInput, waitFor } from './util';

const inputSchema = z.object({
  entityRef: entityRefField,
  buildId: z
    .string({ required_error: 'is required' })
    .uuid({ message: 'expected the id of a build' }),
  replicas: z
    .number()
    .int()
    .min(0)
    .max(64)
    .optional()
    .describe("Default: the manifest's spec.online.replicas"),
  minReplicas: z
    .number()
    .int()
    .min(0)
    .max(64)
    .optional()
    .describe('0 lets it scale to zero when idle'),
  wait: z
    .boolean()
    .optional()
    .describe('Wait until it is ready (default true)'),
  timeoutSeconds: z.number().int().min(1).max(1800).optional(),
});

/** `ml-platform:deploy`: deploys a build online. */
export function createDeployAction(options: { mlPlatform: MlPlatformService }) {
  return createTemplateAction({
    id: 'ml-platform:deploy',
    description:
      'Deploys a succeeded build of a model online, and waits until it serves',
    examples: [
      {
        description: 'Deploy the first build with one replica',
        example: [
          'steps:',
          '  - id: deploy',
          '    action: ml-platform:deploy',
          '    input:',
          '      entityRef: component:default/${{ parameters.name }}',
          '      buildId: ${{ steps.register.output.buildId }}',
          '      replicas: 1',
        ].join('\n'),
      },
    ],
    schema: {
      input: {
        entityRef: () => inputSchema.shape.entityRef,
        buildId: () => inputSchema.shape.buildId,
        replicas: () => inputSchema.shape.replicas,
        minReplicas: () => inputSchema.shape.minReplicas,
        wait: () => inputSchema.shape.wait,
        timeoutSeconds: () => inputSchema.shape.timeoutSeconds,
      },
      output: {
        deploymentId: zImpl => zImpl.string(),
        status: zImpl => zImpl.string(),
        predictPath: zImpl =>
          zImpl
            .string()
            .describe('POST here with MLflow records to invoke the model'),
      },
    },
    async handler(ctx) {
      const input = parseInput(inputSchema, ctx.input);
      const ref = modelRef(input.entityRef);
      const api = options.mlPlatform.forCredentials(
        await ctx.getInitiatorCredentials(),
      );
      const created = await api.createDeployment(ref, {
        buildId: input.buildId,
        type: 'online',
        replicas: input.replicas,
        minReplicas: input.minReplicas,
      });
      ctx.output('deploymentId', created.id);
      ctx.output(
        'predictPath',
        `/api/ml-platform/models/${ref.namespace}/${ref.name}/predict`,
      );
      let status = created.status;
      if (input.wait ?? true) {
        const ready = await waitFor(
          async () => {
            const d = await api.getDeployment(created.id);
            if (d.status === 'failed')
              throw new Error(`Deployment ${d.id} failed: ${d.reason}`);
            return d.status === 'ready' ? d : undefined;
          },
          {
            timeoutMs: (input.timeoutSeconds ?? 300) * 1000,
            what: `deployment ${created.id} to be ready`,
            signal: ctx.signal,
          },
        );
        status = ready.status;
        ctx.logger.info(
          `Deployment ${ready.id} is ready with ${ready.readyReplicas} replica(s)`,
        );
      }
      ctx.output('status', status);
    },
  });
}
