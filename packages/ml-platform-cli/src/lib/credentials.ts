import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What `mlp login` stores. */
export interface StoredCredentials {
  /** The portal backend, e.g. `http://localhost:7007`. */
  url: string;
  token: string;
  /** `guest` tokens are renewed by signing in as guest again. */
  method: 'guest' | 'token';
  savedAt: string;
}

type Env = Record<string, string | undefined>;

/**
 * The user's config directory for mlp: `$MLP_CONFIG_DIR`, else
 * `$XDG_CONFIG_HOME/mlp`, `%APPDATA%\mlp` on Windows, `~/.config/mlp`.
 */
export function configDir(env: Env): string {
  if (env.MLP_CONFIG_DIR) return env.MLP_CONFIG_DIR;
  if (env.XDG_CONFIG_HOME) return path.join(env.XDG_CONFIG_HOME, 'mlp');
  if (process.platform === 'win32' && env.APPDATA) {
    return path.join(env.APPDATA, 'mlp');
  }
  return path.join(env.HOME || os.homedir(), '.config', 'mlp');
}

export function credentialsFile(env: Env): string {
  return path.join(configDir(env), 'credentials.json');
}

export async function readCredentials(
  env: Env,
): Promise<StoredCredentials | undefined> {
  try {
    const text = await fs.promises.readFile(credentialsFile(env), 'utf8');
    const parsed = JSON.parse(text) as StoredCredentials;
    return parsed.url && parsed.token ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes the credentials readable by the user only (0600, in a 0700
 * directory); the file is replaced whole, never left half-written.
 */
export async function writeCredentials(
  env: Env,
  credentials: StoredCredentials,
): Promise<string> {
  const file = credentialsFile(env);
  await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.promises.writeFile(
    tmp,
    `${JSON.stringify(credentials, null, 2)}\n`,
    {
      mode: 0o600,
    },
  );
  // The mode above is masked by the umask; make sure.
  await fs.promises.chmod(tmp, 0o600);
  await fs.promises.rename(tmp, file);
  return file;
}

export async function removeCredentials(env: Env): Promise<boolean> {
  try {
    await fs.promises.unlink(credentialsFile(env));
    return true;
  } catch {
    return false;
  }
}

/** Seconds until a JWT expires, if it says. */
export function secondsLeft(token: string, nowMs = Date.now()) {
  try {
    const payload = JSON.parse(
      Buffer.from(token.split('.')[1], 'base64url').toString('utf8'),
    ) as { exp?: number };
    return typeof payload.exp === 'number'
      ? payload.exp - nowMs / 1000
      : undefined;
  } catch {
    return undefined;
  }
}
