import { ResponseError } from '@backstage/errors';

/** What `mlp` exits with; scripts rely on these. */
export const ExitCode = {
  ok: 0,
  /** The operation ran and failed: a failed build, a refused change, a 5xx. */
  failed: 1,
  /** The command line was wrong, or the server rejected its input (400). */
  usage: 2,
  /** No credentials, rejected credentials, or not allowed (401, 403). */
  auth: 3,
  /** The model, build, deployment or execution does not exist (404). */
  notFound: 4,
} as const;

/** A failure that ends the command with a one-line message and `exitCode`. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = ExitCode.failed) {
    super(message);
    this.name = 'CliError';
  }
}

/** The command line is wrong. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.usage);
    this.name = 'UsageError';
  }
}

/** The exit code for an HTTP status the API answered with. */
export function exitCodeForStatus(status: number): number {
  if (status === 401 || status === 403) return ExitCode.auth;
  if (status === 404) return ExitCode.notFound;
  if (status === 400 || status === 413 || status === 422) {
    return ExitCode.usage;
  }
  return ExitCode.failed;
}

/**
 * The server's own words from an error body: Backstage's
 * `{error: {message}}`, a model server's `{error}` or `{message}`, or text.
 */
export function messageOfBody(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim() || undefined;
  if (!body || typeof body !== 'object') return undefined;
  const { error, message } = body as { error?: unknown; message?: unknown };
  if (typeof error === 'string') return error;
  if (error && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message;
  }
  return typeof message === 'string' ? message : undefined;
}

/** Any error as the exit code and the one line `mlp` prints for it. */
export function describeError(error: unknown): {
  exitCode: number;
  message: string;
} {
  if (error instanceof CliError) {
    return { exitCode: error.exitCode, message: error.message };
  }
  if (error instanceof ResponseError) {
    const status = error.response.status;
    const detail = error.body?.error?.message ?? error.response.statusText;
    return {
      exitCode: exitCodeForStatus(status),
      message: `${status} ${detail}`,
    };
  }
  const e = error as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'TypeError' && e.message === 'fetch failed') {
    // Node's fetch hides why: the cause says (ECONNREFUSED, ENOTFOUND, ...).
    return {
      exitCode: ExitCode.failed,
      message: `cannot reach the ML platform: ${
        e.cause?.code ?? e.cause?.message ?? e.message
      }`,
    };
  }
  return { exitCode: ExitCode.failed, message: e?.message ?? String(error) };
}
