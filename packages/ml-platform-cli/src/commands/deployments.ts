import { Command, Option } from 'commander';
import {
  DeploymentType,
  MlPlatformApi,
  ModelBuild,
  ModelDeployment,
  ModelRef,
} from '@internal/plugin-ml-platform-common';
import { integer, modelLabel, parseModelRef, seconds } from '../lib/args';
import { deploymentColumns } from '../lib/columns';
import { CommandContext } from '../lib/context';
import { UsageError } from '../lib/errors';
import { examples } from '../lib/help';
import {
  modelOf,
  previousBuild,
  resolveBuild,
  resolveDeployment,
} from '../lib/resolve';
import { waitForDeployment } from '../lib/wait';

const DEFAULT_WAIT_SECONDS = 5 * 60;

/** `--online` / `--batch`, for commands acting on one of a model's deployments. */
function typeOf(options: { online?: boolean; batch?: boolean }) {
  if (options.online) return 'online';
  if (options.batch) return 'batch';
  return undefined;
}

function addTypeOptions(command: Command) {
  return command
    .option('--online', "the model's online deployment")
    .addOption(
      new Option('--batch', "the model's batch deployment").conflicts('online'),
    );
}

/** The build versions of a model's deployments, for tables. */
async function versionsOf(api: MlPlatformApi, deployments: ModelDeployment[]) {
  const versions = new Map<string, number>();
  for (const d of deployments) {
    if (!versions.has(d.buildId)) {
      versions.set(d.buildId, (await api.getBuild(d.buildId)).version);
    }
  }
  return versions;
}

export function registerDeployments(program: Command, ctx: CommandContext) {
  /** Prints a deployment (after waiting for it, with --wait). */
  async function finish(
    command: Command,
    api: MlPlatformApi,
    deployment: ModelDeployment,
    options: { wait?: boolean; timeout?: number },
  ) {
    let result = deployment;
    if (options.wait) {
      ctx.note(`waiting for deployment ${deployment.id} to be ready`);
      result = await waitForDeployment(api, deployment.id, deployment.buildId, {
        timeoutSeconds: options.timeout ?? DEFAULT_WAIT_SECONDS,
        signal: ctx.io.signal,
      });
    }
    const out = ctx.output(command);
    out.print(
      result,
      deploymentColumns(
        out.format === 'table' ? await versionsOf(api, [result]) : undefined,
      ),
    );
  }

  /** Rollout and rollback: the deployment runs another build. */
  async function changeBuild(
    command: Command,
    target: string,
    options: {
      online?: boolean;
      batch?: boolean;
      wait?: boolean;
      timeout?: number;
    },
    direction: 'out' | 'back',
    pick: (
      api: MlPlatformApi,
      ref: ModelRef,
      current: ModelDeployment,
    ) => Promise<ModelBuild>,
  ) {
    const { client } = await ctx.session(command);
    const deployment = await resolveDeployment(client, target, typeOf(options));
    const ref = modelOf(deployment.modelRef);
    const build = await pick(client, ref, deployment);
    const updated = await client.updateDeployment(deployment.id, {
      buildId: build.id,
    });
    ctx.note(
      `rolling ${deployment.type} deployment of ${modelLabel(
        ref,
      )} ${direction} to v${build.version}`,
    );
    await finish(command, client, updated, options);
  }

  const waitOptions = (command: Command) =>
    command
      .option('--wait', 'wait until the build runs with its replicas ready')
      .option(
        '--timeout <seconds>',
        'with --wait: give up after this long (default 5 minutes)',
        seconds,
      );

  waitOptions(
    program
      .command('deploy')
      .description(
        'Deploy a succeeded build: online (replicas serving predictions) or batch (runs when an execution starts)',
      )
      .argument('<model>', 'NAME or NAMESPACE/NAME', parseModelRef)
      .option(
        '--build <build>',
        'a version (3 or v3) or build ID (default: the newest succeeded build)',
      )
      .option('--online', 'an online deployment (the default)')
      .addOption(
        new Option('--batch', 'a batch deployment').conflicts([
          'online',
          'replicas',
          'minReplicas',
          'maxReplicas',
        ]),
      )
      .option('--replicas <n>', 'online: replicas to run', integer(0))
      .option(
        '--min-replicas <n>',
        'online: fewest replicas (0 scales to zero when idle)',
        integer(0),
      )
      .option('--max-replicas <n>', 'online: most replicas', integer(1))
      .option('--chunk-size <rows>', 'batch: rows per chunk', integer(1))
      .option('--parallelism <n>', 'batch: chunks at a time', integer(1))
      .option(
        '--max-retries <n>',
        'batch: retries of a failed chunk',
        integer(0),
      ),
  )
    .addHelpText(
      'after',
      examples(
        [
          'the newest build, online, and wait until it serves',
          'mlp deploy churn --wait',
        ],
        [
          'build v3 with two replicas',
          'mlp deploy churn --build v3 --online --replicas 2',
        ],
        [
          'as a batch model',
          'mlp deploy churn --build 3 --batch --chunk-size 5000 --parallelism 4',
        ],
      ),
    )
    .action(async (ref: ModelRef, options, command: Command) => {
      const batchOnly = ['chunkSize', 'parallelism', 'maxRetries'].filter(
        k => options[k] !== undefined,
      );
      if (!options.batch && batchOnly.length) {
        throw new UsageError(
          `--${batchOnly[0].replace(
            /[A-Z]/g,
            c => `-${c.toLowerCase()}`,
          )} is for batch deployments: add --batch`,
        );
      }
      const { client } = await ctx.session(command);
      const build = await resolveBuild(client, ref, options.build);
      const type: DeploymentType = options.batch ? 'batch' : 'online';
      const deployment = await client.createDeployment(ref, {
        buildId: build.id,
        type,
        ...(type === 'online'
          ? {
              replicas: options.replicas,
              minReplicas: options.minReplicas,
              maxReplicas: options.maxReplicas,
            }
          : {
              batch: {
                chunkSize: options.chunkSize,
                parallelism: options.parallelism,
                maxRetries: options.maxRetries,
              },
            }),
      });
      ctx.note(
        `deployed build v${build.version} of ${modelLabel(ref)} (${type})`,
      );
      await finish(command, client, deployment, options);
    });

  program
    .command('deployments')
    .description("List a model's deployments with their status and replicas")
    .argument('<model>', 'NAME or NAMESPACE/NAME', parseModelRef)
    .addHelpText(
      'after',
      examples(['online and batch', 'mlp deployments churn']),
    )
    .action(async (ref: ModelRef, _options, command: Command) => {
      const { client } = await ctx.session(command);
      const deployments = await client.listDeployments(ref);
      const out = ctx.output(command);
      out.print(
        deployments,
        deploymentColumns(
          out.format === 'table'
            ? await versionsOf(client, deployments)
            : undefined,
        ),
      );
    });

  waitOptions(
    program
      .command('scale')
      .description('Change how many replicas an online deployment runs')
      .argument(
        '<target>',
        'a model (its online deployment) or a deployment ID',
      )
      .option('--replicas <n>', 'replicas to run', integer(0))
      .option(
        '--min-replicas <n>',
        'fewest replicas (0 scales to zero when idle)',
        integer(0),
      )
      .option('--max-replicas <n>', 'most replicas', integer(1)),
  )
    .addHelpText(
      'after',
      examples(
        ['three replicas', 'mlp scale churn --replicas 3 --wait'],
        [
          'scale to zero when idle, up to 4 under load',
          'mlp scale churn --min-replicas 0 --max-replicas 4',
        ],
      ),
    )
    .action(async (target: string, options, command: Command) => {
      const body = {
        replicas: options.replicas,
        minReplicas: options.minReplicas,
        maxReplicas: options.maxReplicas,
      };
      if (Object.values(body).every(v => v === undefined)) {
        throw new UsageError(
          'give --replicas, --min-replicas or --max-replicas',
        );
      }
      const { client } = await ctx.session(command);
      const deployment = await resolveDeployment(client, target, 'online');
      const updated = await client.updateDeployment(deployment.id, body);
      await finish(command, client, updated, options);
    });

  waitOptions(
    addTypeOptions(
      program
        .command('rollout')
        .description(
          'Roll a deployment out to another build: new replicas are ready before old ones stop',
        )
        .argument('<target>', 'a model or a deployment ID')
        .requiredOption('--build <build>', 'a version (3 or v3) or build ID'),
    ),
  )
    .addHelpText(
      'after',
      examples(
        [
          'the online deployment to build v4',
          'mlp rollout churn --build v4 --wait',
        ],
        ['the batch deployment', 'mlp rollout churn --batch --build v4'],
      ),
    )
    .action((target: string, options, command: Command) =>
      changeBuild(command, target, options, 'out', (api, ref) =>
        resolveBuild(api, ref, options.build),
      ),
    );

  waitOptions(
    addTypeOptions(
      program
        .command('rollback')
        .description(
          'Roll a deployment back to the succeeded build before the one it runs (or to --build)',
        )
        .argument('<target>', 'a model or a deployment ID')
        .option('--build <build>', 'a version (3 or v3) or build ID'),
    ),
  )
    .addHelpText(
      'after',
      examples(
        ['back to the previous build', 'mlp rollback churn --wait'],
        ['back to v2', 'mlp rollback churn --build v2'],
      ),
    )
    .action((target: string, options, command: Command) =>
      changeBuild(command, target, options, 'back', async (api, ref, current) =>
        options.build !== undefined
          ? resolveBuild(api, ref, options.build)
          : previousBuild(api, ref, await api.getBuild(current.buildId)),
      ),
    );

  addTypeOptions(
    program
      .command('undeploy')
      .description('Stop and remove a deployment')
      .argument('<target>', 'a model or a deployment ID'),
  )
    .addHelpText(
      'after',
      examples(
        ["the model's only deployment", 'mlp undeploy churn'],
        ['its batch deployment', 'mlp undeploy churn --batch'],
      ),
    )
    .action(async (target: string, options, command: Command) => {
      const { client } = await ctx.session(command);
      const deployment = await resolveDeployment(
        client,
        target,
        typeOf(options),
      );
      await client.deleteDeployment(deployment.id);
      ctx.note(
        `removed the ${deployment.type} deployment of ${
          modelOf(deployment.modelRef).name
        }`,
      );
      ctx.output(command).print(deployment, deploymentColumns());
    });
}
