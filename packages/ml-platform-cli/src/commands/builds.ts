import { Command, Option } from 'commander';
import { ModelBuild, ModelRef } from '@internal/plugin-ml-platform-common';
import { integer, modelLabel, parseModelRef, seconds } from '../lib/args';
import { buildColumns } from '../lib/columns';
import { CommandContext } from '../lib/context';
import { CliError } from '../lib/errors';
import { examples } from '../lib/help';
import { duration } from '../lib/output';
import { waitForBuild } from '../lib/wait';

/** Prints each step of a build on stderr as it starts and ends. */
function stepReporter(note: (text: string) => void) {
  const seen = new Map<string, string>();
  let status: string | undefined;
  return (build: ModelBuild) => {
    if (build.status !== status) {
      status = build.status;
      note(`build v${build.version}: ${build.status}`);
    }
    for (const step of build.steps) {
      if (step.status === 'pending' || seen.get(step.name) === step.status) {
        continue;
      }
      seen.set(step.name, step.status);
      const took =
        step.durationMs !== undefined
          ? ` (${duration(step.durationMs / 1000)})`
          : '';
      const message = step.message ? `: ${step.message}` : '';
      note(`  ${step.name} ${step.status}${took}${message}`);
    }
  };
}

export function registerBuilds(program: Command, ctx: CommandContext) {
  program
    .command('build')
    .description(
      "Build a model's code at a branch or commit into a versioned package (its default branch when neither is given)",
    )
    .argument('<model>', 'NAME or NAMESPACE/NAME', parseModelRef)
    .option('--branch <branch>', 'the branch to build')
    .addOption(
      new Option('--commit <sha>', 'the commit to build').conflicts('branch'),
    )
    .option(
      '--wait',
      'wait until the build ends, showing its steps; exit 1 if it fails',
    )
    .option(
      '--timeout <seconds>',
      'with --wait: give up after this long (default 30 minutes)',
      seconds,
    )
    .addHelpText(
      'after',
      examples(
        ['build the default branch and wait', 'mlp build churn --wait'],
        [
          'a branch, in another namespace',
          'mlp build team-a/churn --branch experiment',
        ],
        [
          'the ID of a new build, in a script',
          'mlp build churn -o json | jq -r .id',
        ],
      ),
    )
    .action(async (ref: ModelRef, options, command: Command) => {
      const { client } = await ctx.session(command);
      let build = await client.createBuild(ref, {
        branch: options.branch,
        commit: options.commit,
      });
      if (options.wait) {
        build = await waitForBuild(client, build.id, {
          timeoutSeconds: options.timeout ?? 30 * 60,
          signal: ctx.io.signal,
          onUpdate: stepReporter(text => ctx.note(text)),
        });
      } else {
        ctx.note(
          `build v${build.version} of ${modelLabel(ref)} is ${
            build.status
          }; follow it with: mlp logs ${build.id} --follow`,
        );
      }
      ctx.output(command).print(build, buildColumns);
      if (options.wait && build.status !== 'succeeded') {
        throw new CliError(
          `build v${build.version} ${build.status}${
            build.failureReason ? `: ${build.failureReason}` : ''
          }`,
        );
      }
    });

  program
    .command('builds')
    .description("List a model's builds, newest first")
    .argument('<model>', 'NAME or NAMESPACE/NAME', parseModelRef)
    .option('--limit <n>', 'how many (default 20)', integer(1))
    .addHelpText(
      'after',
      examples(
        ['the last builds', 'mlp builds churn'],
        [
          'the newest succeeded version',
          'mlp builds churn -o json | jq \'[.[] | select(.status=="succeeded")][0].version\'',
        ],
      ),
    )
    .action(async (ref: ModelRef, options, command: Command) => {
      const { client } = await ctx.session(command);
      const page = await client.listBuilds(ref, { limit: options.limit ?? 20 });
      ctx.output(command).print(page.items, buildColumns);
    });
}
