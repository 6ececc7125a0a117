import { Command } from 'commander';
import { modelColumns } from '../lib/columns';
import { CommandContext } from '../lib/context';
import { examples } from '../lib/help';

export function registerModels(program: Command, ctx: CommandContext) {
  program
    .command('models')
    .description(
      'List the models you can see: owner, latest build, online deployment, running executions',
    )
    .addHelpText(
      'after',
      examples(
        ['as a table', 'mlp models'],
        [
          'names of the models with a live deployment',
          "mlp models -o json | jq -r '.[] | select(.platform.liveDeployment) | .name'",
        ],
      ),
    )
    .action(async (_options, command: Command) => {
      const { client } = await ctx.session(command);
      ctx.output(command).print(await client.listModels(), modelColumns);
    });
}
