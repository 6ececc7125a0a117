import { MlPlatformClient } from '@internal/plugin-ml-platform-common';
import {
  readCredentials,
  secondsLeft,
  StoredCredentials,
  writeCredentials,
} from './credentials';
import { CliError, ExitCode, messageOfBody, UsageError } from './errors';
import { Io } from './io';

/** A signed-in client for one portal. */
export interface Session {
  /** The portal backend, e.g. `http://localhost:7007`. */
  url: string;
  client: MlPlatformClient;
}

/**
 * The portal's base URL from what a user may type: the backend
 * (`http://localhost:7007`) or the API itself (`.../api/ml-platform`).
 */
export function normalizeUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${raw} is not a URL (e.g. http://localhost:7007)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${raw} is not an http(s) URL`);
  }
  if (url.username || url.password) {
    throw new UsageError('the URL must not hold credentials: use a token');
  }
  return url.href.replace(/\/+$/, '').replace(/\/api\/ml-platform$/, '');
}

/** Signs in with the auth backend's guest provider; returns its token. */
export async function guestSignIn(
  io: Pick<Io, 'fetch'>,
  url: string,
): Promise<string> {
  const response = await io.fetch(`${url}/api/auth/guest/refresh`, {
    method: 'POST',
    headers: { 'X-Requested-With': 'XMLHttpRequest' },
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Keep the text for the message.
  }
  if (!response.ok) {
    throw new CliError(
      `guest sign-in at ${url} failed: ${response.status} ${
        messageOfBody(body) ?? response.statusText
      }`,
      response.status === 404 ? ExitCode.auth : ExitCode.failed,
    );
  }
  const token = (body as { backstageIdentity?: { token?: string } })
    ?.backstageIdentity?.token;
  if (!token) {
    throw new CliError(`guest sign-in at ${url} returned no token`);
  }
  return token;
}

/** A client that sends `token` on every request, with `io.fetch`. */
export function createClient(io: Io, url: string, token: string) {
  return new MlPlatformClient({
    discoveryApi: {
      getBaseUrl: async pluginId => `${url}/api/${pluginId}`,
    },
    fetchApi: {
      fetch: (input, init) => {
        const headers = new Headers(init?.headers);
        headers.set('Authorization', `Bearer ${token}`);
        return io.fetch(input, { ...init, headers });
      },
    },
  });
}

/**
 * Where to connect and with which token: `--url`/`MLP_URL` and `MLP_TOKEN`
 * first, else what `mlp login` stored (a guest token is renewed when it is
 * about to expire).
 */
export async function connect(
  io: Io,
  options: { url?: string },
): Promise<Session> {
  const stored = await readCredentials(io.env);
  const rawUrl = options.url ?? io.env.MLP_URL ?? stored?.url;
  if (!rawUrl) {
    throw new CliError(
      'not signed in: run `mlp login --url <portal>` or set MLP_URL and MLP_TOKEN',
      ExitCode.auth,
    );
  }
  const url = normalizeUrl(rawUrl);
  let token = io.env.MLP_TOKEN;
  if (!token && stored && normalizeUrl(stored.url) === url) {
    token = await freshToken(io, stored);
  }
  if (!token) {
    throw new CliError(
      `not signed in to ${url}: run \`mlp login\` or set MLP_TOKEN`,
      ExitCode.auth,
    );
  }
  return { url, client: createClient(io, url, token) };
}

async function freshToken(io: Io, stored: StoredCredentials) {
  const left = secondsLeft(stored.token);
  if (stored.method !== 'guest' || left === undefined || left > 60) {
    return stored.token;
  }
  const token = await guestSignIn(io, normalizeUrl(stored.url));
  await writeCredentials(io.env, {
    ...stored,
    token,
    savedAt: new Date().toISOString(),
  });
  return token;
}
