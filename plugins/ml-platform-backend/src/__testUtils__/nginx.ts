import { missingNginxPackages as missingPackages } from '../gateway/nginx/nginxPackages';

/** Debian's nginx and its dynamic modules. */
export const NGINX = '/usr/sbin/nginx';
export const NGINX_MODULES = '/usr/lib/nginx/modules';

/** The Debian packages the native data plane needs that this host lacks. */
export function missingNginxPackages(): string[] {
  return missingPackages({ command: NGINX, modulesDir: NGINX_MODULES });
}

/**
 * `describe` where this host has nginx, its Lua module and lua-cjson;
 * elsewhere `describe.skip`, but in CI (.ci/run installs them) a missing
 * package fails the suite, so its tests never pass by not running.
 */
export function describeWithNginx(): jest.Describe {
  const missing = missingNginxPackages();
  if (missing.length > 0 && process.env.CI) {
    throw new Error(
      `The native gateway's tests need nginx with its Lua module and lua-cjson: apt-get install ${missing.join(
        ' ',
      )}`,
    );
  }
  return missing.length === 0 ? describe : describe.skip;
}
