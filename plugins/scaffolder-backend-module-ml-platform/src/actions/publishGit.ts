import { Config } from '@backstage/config';
import { ConflictError, InputError } from '@backstage/errors';
import {
  publishDirectory,
  readMlPlatformPaths,
} from '@internal/plugin-ml-platform-node';
import { resolveSafeChildPath } from '@backstage/backend-plugin-api';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod/v3';

const inputSchema = z.object({
  repoName: z
    .string({ required_error: 'is required' })
    .regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, {
      message:
        'expected lowercase letters, digits, ".", "_" or "-", starting with a letter or digit',
    })
    .describe(
      'Name of the repository; it is created as <git root>/<repoName>.git',
    ),
  sourcePath: z
    .string()
    .optional()
    .describe(
      'Directory inside the workspace to publish; defaults to the whole workspace',
    ),
  defaultBranch: z
    .string()
    .regex(/^[\w./-]+$/, { message: 'expected a branch name' })
    .optional()
    .describe('Branch to push to; defaults to main'),
  commitMessage: z
    .string()
    .optional()
    .describe('Message of the initial commit'),
  gitAuthorName: z.string().optional().describe('Author of the initial commit'),
  gitAuthorEmail: z
    .string()
    .optional()
    .describe('Author email of the initial commit'),
});

/**
 * `ml-platform:publish:git`: publishes the workspace to a new bare
 * repository on this host, so the template flow needs no Git server.
 */
export function createPublishGitAction(options: { config: Config }) {
  const { gitRoot } = readMlPlatformPaths(options.config);

  return createTemplateAction({
    id: 'ml-platform:publish:git',
    description:
      'Creates a bare Git repository under mlPlatform.git.root and pushes the workspace to it',
    examples: [
      {
        description: 'Publish the skeleton as a new repository',
        example: [
          'steps:',
          '  - id: publish',
          '    action: ml-platform:publish:git',
          '    input:',
          '      repoName: ${{ parameters.name }}',
          '      defaultBranch: main',
        ].join('\n'),
      },
    ],
    schema: {
      input: {
        repoName: () => inputSchema.shape.repoName,
        sourcePath: () => inputSchema.shape.sourcePath,
        defaultBranch: () => inputSchema.shape.defaultBranch,
        commitMessage: () => inputSchema.shape.commitMessage,
        gitAuthorName: () => inputSchema.shape.gitAuthorName,
        gitAuthorEmail: () => inputSchema.shape.gitAuthorEmail,
      },
      output: {
        repoUrl: zImpl =>
          zImpl.string().describe('file:// clone URL of the new repository'),
        repoPath: zImpl =>
          zImpl.string().describe('Path of the bare repository'),
        commitHash: zImpl => zImpl.string().describe('The initial commit'),
        defaultBranch: zImpl => zImpl.string(),
      },
    },
    async handler(ctx) {
      // The scaffolder validates against the JSON Schema, but the messages
      // here name the field for callers that skip it.
      const parsed = inputSchema.safeParse(ctx.input);
      if (!parsed.success) {
        throw new InputError(
          parsed.error.issues
            .map(i => `input.${i.path.join('.')}: ${i.message}`)
            .join('; '),
        );
      }
      const input = parsed.data;
      const branch = input.defaultBranch ?? 'main';
      const sourceDir = resolveSafeChildPath(
        ctx.workspacePath,
        input.sourcePath ?? '.',
      );
      const repoPath = path.join(gitRoot, `${input.repoName}.git`);
      if (fs.existsSync(repoPath)) {
        throw new ConflictError(
          `Repository ${input.repoName} already exists at ${repoPath}`,
        );
      }

      const commitHash = await publishDirectory({
        sourceDir,
        repoPath,
        branch,
        message: input.commitMessage ?? 'Initial commit',
        author: {
          name: input.gitAuthorName ?? 'Backstage Scaffolder',
          email: input.gitAuthorEmail ?? 'scaffolder@backstage.local',
        },
      });
      const repoUrl = pathToFileURL(repoPath).href;
      ctx.logger.info(`Published ${commitHash} to ${repoUrl} (${branch})`);
      ctx.output('repoUrl', repoUrl);
      ctx.output('repoPath', repoPath);
      ctx.output('commitHash', commitHash);
      ctx.output('defaultBranch', branch);
    },
  });
}
