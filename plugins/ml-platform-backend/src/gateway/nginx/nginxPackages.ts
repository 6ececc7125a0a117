import fs from 'node:fs';
import path from 'node:path';

/** LuaJIT's default C module directories on Debian (multiarch, and local). */
export function luaCModuleDirs(): string[] {
  let multiarch: string[] = [];
  try {
    multiarch = fs
      .readdirSync('/usr/lib')
      .map(d => path.join('/usr/lib', d, 'lua/5.1'));
  } catch {
    // No /usr/lib: nothing installed there.
  }
  return ['/usr/local/lib/lua/5.1', ...multiarch];
}

/**
 * The Debian packages the native data plane needs that this host lacks:
 * nginx itself, its Lua module, and lua-cjson (which the Lua module does
 * not pull in, and mlp_gateway.lua requires).
 */
export function missingNginxPackages(
  where: { command: string; modulesDir: string },
  luaDirs: string[] = luaCModuleDirs(),
): string[] {
  const missing: string[] = [];
  if (!fs.existsSync(where.command)) missing.push('nginx');
  if (!fs.existsSync(path.join(where.modulesDir, 'ngx_http_lua_module.so'))) {
    missing.push('libnginx-mod-http-lua');
  }
  if (!luaDirs.some(d => fs.existsSync(path.join(d, 'cjson.so')))) {
    missing.push('lua-cjson');
  }
  return missing;
}
