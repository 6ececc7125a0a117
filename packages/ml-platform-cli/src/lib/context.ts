import { Command } from 'commander';
import { Io } from './io';
import { defaultFormat, Output, OutputFormat } from './output';
import { connect, Session } from './session';

/** What every command gets: the outside world, a session, an output. */
export class CommandContext {
  constructor(readonly io: Io) {}

  /** The signed-in client, from `--url`, the environment or `mlp login`. */
  session(command: Command): Promise<Session> {
    const { url } = command.optsWithGlobals<{ url?: string }>();
    return connect(this.io, { url });
  }

  output(command: Command): Output {
    const { format } = command.optsWithGlobals<{ format?: OutputFormat }>();
    return new Output(this.io.stdout, format ?? defaultFormat(this.io.stdout));
  }

  /** A line on stderr: progress and what happened, never the result. */
  note(text: string) {
    this.io.stderr.write(`${text}\n`);
  }
}
