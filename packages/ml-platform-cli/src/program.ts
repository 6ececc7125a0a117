import { Command, CommanderError, Option } from 'commander';
import { registerAuth } from './commands/auth';
import { registerBatch } from './commands/batch';
import { registerBuilds } from './commands/builds';
import { registerDeployments } from './commands/deployments';
import { registerLogs } from './commands/logs';
import { registerModels } from './commands/models';
import { registerPredict } from './commands/predict';
import { CommandContext } from './lib/context';
import { CliError, describeError, ExitCode } from './lib/errors';
import { examples } from './lib/help';
import { Io } from './lib/io';
import { OUTPUT_FORMATS } from './lib/output';

const VERSION = '0.1.0';

/** Every command, depth first. */
function* walk(command: Command): Generator<Command> {
  yield command;
  for (const sub of command.commands) yield* walk(sub);
}

/** `mlp batch run`, for messages. */
function pathOf(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent)
    names.unshift(c.name());
  return names.join(' ');
}

/** The `mlp` command tree, writing to `io`. */
export function createProgram(io: Io): Command {
  const ctx = new CommandContext(io);
  const program = new Command('mlp')
    .description(
      'The ML platform from a terminal: build, deploy, invoke and batch-score models',
    )
    .version(VERSION)
    .addOption(
      new Option(
        '-o, --format <format>',
        'table, json or yaml (default: table on a terminal, json when piped)',
      ).choices(OUTPUT_FORMATS),
    )
    .option(
      '--url <url>',
      'the portal backend, e.g. http://localhost:7007 (default: MLP_URL, or what mlp login stored)',
    )
    .addHelpText(
      'after',
      `
Credentials: MLP_URL and MLP_TOKEN, or what \`mlp login\` stored in your config directory.
Exit codes: 0 ok, 1 the operation failed, 2 usage, 3 not signed in or not allowed, 4 not found.
${examples(
  ['sign in to the portal on this machine as guest', 'mlp login --guest'],
  [
    'build, deploy and invoke',
    'mlp build churn --wait && mlp deploy churn --wait && mlp predict churn -d @rows.json',
  ],
  [
    'score a file',
    'mlp batch run churn --input customers.csv --output scores.csv --follow',
  ],
)}`,
    )
    .exitOverride()
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false });

  registerAuth(program, ctx);
  registerModels(program, ctx);
  registerBuilds(program, ctx);
  registerLogs(program, ctx);
  registerDeployments(program, ctx);
  registerPredict(program, ctx);
  registerBatch(program, ctx);

  for (const command of walk(program)) {
    const name = pathOf(command);
    command.exitOverride().configureOutput({
      writeOut: text => io.stdout.write(text),
      writeErr: text => io.stderr.write(text),
      // One line: what is wrong and where the help is.
      outputError: (text, write) =>
        write(
          `${name}: ${text
            .trim()
            .replace(/^error: /, '')} (see: ${name} --help)\n`,
        ),
    });
  }
  return program;
}

/** Runs `mlp` with `argv` (without node and the script); resolves to the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version asked for exit 0; a bare `mlp` (help shown) is usage.
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version'
      ) {
        return ExitCode.ok;
      }
      return ExitCode.usage;
    }
    // Ctrl-C ended a wait or a follow: nothing went wrong to report.
    if (io.signal.aborted && !(error instanceof CliError)) return 130;
    const { exitCode, message } = describeError(error);
    io.stderr.write(`mlp: ${message.split('\n')[0]}\n`);
    return exitCode;
  }
}
