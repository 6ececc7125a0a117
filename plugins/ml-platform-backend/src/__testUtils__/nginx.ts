import fs from 'node:fs';
import path from 'node:path';

/** Debian's nginx and its dynamic modules. */
export const NGINX = '/usr/sbin/nginx';
export const NGINX_MODULES = '/usr/lib/nginx/modules';

/** LuaJIT's default C module directories on Debian (multiarch, and local). */
function luaCModuleDirs(): string[] {
  return [
    '/usr/local/lib/lua/5.1',
    ...fs.readdirSync('/usr/lib').map(d => path.join('/usr/lib', d, 'lua/5.1')),
  ];
}

/** The Debian packages the native data plane needs that this host lacks. */
export function missingNginxPackages(): string[] {
  const missing: string[] = [];
  if (!fs.existsSync(NGINX)) missing.push('nginx');
  if (!fs.existsSync(path.join(NGINX_MODULES, 'ngx_http_lua_module.so'))) {
    missing.push('libnginx-mod-http-lua');
  }
  if (!luaCModuleDirs().some(d => fs.existsSync(path.join(d, 'cjson.so')))) {
    missing.push('lua-cjson');
  }
  return missing;
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
