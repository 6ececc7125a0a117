import { AuthenticationError } from '@backstage/errors';
import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a token allows: reading one artifact, or storing one key. */
export type ArtifactGrant =
  | { scope: 'read'; digest: string; uri: string }
  | { scope: 'write'; key: string };

const PREFIX = 'mlpa1';

/**
 * Short-lived tokens scoped to one artifact, for runtimes on other hosts
 * (init containers, batch pods) that hold no Backstage credentials. Signed
 * with HMAC-SHA256 under a key every backend instance shares (kept in the
 * database), so any instance verifies what another issued.
 */
export class ArtifactTokens {
  constructor(private readonly key: () => Promise<string>) {}

  async issue(
    grant: ArtifactGrant,
    ttlMs: number,
  ): Promise<{ token: string; expiresAt: string }> {
    const exp = Date.now() + ttlMs;
    const payload = Buffer.from(JSON.stringify({ ...grant, exp })).toString(
      'base64url',
    );
    const signature = await this.sign(payload);
    return {
      token: `${PREFIX}.${payload}.${signature}`,
      expiresAt: new Date(exp).toISOString(),
    };
  }

  /** The grant of a valid token; an AuthenticationError otherwise. */
  async verify(token: string | undefined): Promise<ArtifactGrant> {
    const [prefix, payload, signature, ...rest] = (token ?? '').split('.');
    if (prefix !== PREFIX || !payload || !signature || rest.length) {
      throw new AuthenticationError('An artifact token is required');
    }
    const expected = Buffer.from(await this.sign(payload));
    const actual = Buffer.from(signature);
    if (
      expected.length !== actual.length ||
      !timingSafeEqual(expected, actual)
    ) {
      throw new AuthenticationError('The artifact token is not valid');
    }
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    if (typeof claims.exp !== 'number' || claims.exp < Date.now()) {
      throw new AuthenticationError('The artifact token has expired');
    }
    delete claims.exp;
    return claims as ArtifactGrant;
  }

  private async sign(payload: string): Promise<string> {
    return createHmac('sha256', await this.key())
      .update(payload)
      .digest('base64url');
  }
}
