import { Command } from 'commander';
import { CommandContext } from '../lib/context';
import {
  credentialsFile,
  removeCredentials,
  writeCredentials,
} from '../lib/credentials';
import { CliError, ExitCode, UsageError } from '../lib/errors';
import { examples } from '../lib/help';
import { Io, readText } from '../lib/io';
import { createClient, guestSignIn, normalizeUrl } from '../lib/session';

const DEFAULT_URL = 'http://localhost:7007';

/** Reads a line from the terminal without echoing it. */
async function promptSecret(io: Io, question: string): Promise<string> {
  const stdin = io.stdin as NodeJS.ReadStream;
  io.stderr.write(question);
  stdin.setRawMode?.(true);
  let value = '';
  try {
    for await (const chunk of stdin) {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n') return value;
        if (ch === '\u0003') throw new CliError('cancelled', 130);
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    }
    return value;
  } finally {
    stdin.setRawMode?.(false);
    io.stderr.write('\n');
  }
}

/** Who a Backstage token is for (its `sub`), when it says. */
function subjectOf(token: string): string | undefined {
  try {
    return JSON.parse(
      Buffer.from(token.split('.')[1], 'base64url').toString('utf8'),
    ).sub;
  } catch {
    return undefined;
  }
}

export function registerAuth(program: Command, ctx: CommandContext) {
  program
    .command('login')
    .description(
      'Sign in to a portal (as guest, or with a pasted Backstage token) and keep the token, readable by you only, in your config directory',
    )
    .option('--guest', 'sign in as the guest user (portals with guest sign-in)')
    .option('--token-stdin', 'read the token from standard input')
    .option(
      '--token <token>',
      'the token itself (other users may see it in the process list: prefer --token-stdin)',
    )
    .addHelpText(
      'after',
      examples(
        ['the embedded defaults, as guest', 'mlp login --guest'],
        [
          'another portal: paste a token when asked',
          'mlp login --url https://portal.example.com',
        ],
        [
          'in a script',
          'echo "$TOKEN" | mlp login --url "$PORTAL" --token-stdin',
        ],
      ),
    )
    .action(async (options, command: Command) => {
      const { io } = ctx;
      const given = [options.guest, options.tokenStdin, options.token].filter(
        Boolean,
      ).length;
      if (given > 1) {
        throw new UsageError('give one of --guest, --token-stdin and --token');
      }
      const { url: urlOption } = command.optsWithGlobals<{ url?: string }>();
      const url = normalizeUrl(urlOption ?? io.env.MLP_URL ?? DEFAULT_URL);
      let method: 'guest' | 'token' = 'token';
      let token: string;
      if (options.guest) {
        method = 'guest';
        token = await guestSignIn(io, url);
      } else if (options.token) {
        token = options.token;
      } else if (options.tokenStdin) {
        token = (await readText(io.stdin)).trim();
      } else if (io.stdin.isTTY) {
        token = (
          await promptSecret(
            io,
            `Paste a Backstage token for ${url} (empty for guest sign-in): `,
          )
        ).trim();
        if (!token) {
          method = 'guest';
          token = await guestSignIn(io, url);
        }
      } else {
        throw new UsageError(
          'no terminal to paste a token into: give --guest, --token-stdin or --token',
        );
      }
      if (!token) throw new UsageError('the token is empty');

      // Check the token before keeping it.
      try {
        await createClient(io, url, token).listModels();
      } catch (error) {
        const status = (error as { response?: { status?: number } }).response
          ?.status;
        if (status === 401) {
          throw new CliError(`${url} refused the token`, ExitCode.auth);
        }
        throw error;
      }
      const file = await writeCredentials(io.env, {
        url,
        token,
        method,
        savedAt: new Date().toISOString(),
      });
      const result = {
        url,
        method,
        user: subjectOf(token),
        credentialsFile: file,
      };
      ctx.output(command).print(result, [
        { header: 'url', value: r => r.url },
        { header: 'user', value: r => r.user },
        { header: 'method', value: r => r.method },
        { header: 'credentials', value: r => r.credentialsFile },
      ]);
    });

  program
    .command('logout')
    .description('Forget the token `mlp login` stored')
    .addHelpText('after', examples(['forget the token', 'mlp logout']))
    .action(async (_options, command: Command) => {
      const file = credentialsFile(ctx.io.env);
      const removed = await removeCredentials(ctx.io.env);
      ctx.output(command).print({ removed, credentialsFile: file }, [
        { header: 'removed', value: r => (r.removed ? 'yes' : 'no') },
        { header: 'credentials', value: r => r.credentialsFile },
      ]);
    });
}
