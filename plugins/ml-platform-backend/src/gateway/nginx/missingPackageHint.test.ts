import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  describeWithNginx as describeNginx,
  NGINX,
  NGINX_MODULES,
} from '../../__testUtils__/nginx';
import { missingPackageHint } from './NginxGateway';

const describeWithNginx = describeNginx();

/** What nginx prints when it cannot start with `http` (and `modules`) as its configuration. */
function nginxOutput(http: string, modules: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-nginx-hint-'));
  try {
    const conf = path.join(dir, 'nginx.conf');
    fs.writeFileSync(
      conf,
      `error_log stderr;\npid ${dir}/nginx.pid;\n${modules}\nevents {}\nhttp { ${http} }\n`,
    );
    const run = spawnSync(
      NGINX,
      ['-p', dir, '-c', conf, '-g', 'daemon off; master_process off;'],
      { encoding: 'utf8', timeout: 10_000 },
    );
    return `${run.stderr}${run.stdout}`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describeWithNginx('missingPackageHint', () => {
  const luaModules = ['ndk_http_module', 'ngx_http_lua_module']
    .map(m => `load_module ${NGINX_MODULES}/${m}.so;`)
    .join('\n');

  it('names lua-cjson when mlp_gateway.lua cannot load cjson', () => {
    // A C module path without cjson: as on a host without lua-cjson.
    const output = nginxOutput(
      'lua_package_cpath "/nonexistent/?.so"; init_by_lua_block { require "cjson.safe" }',
      luaModules,
    );
    expect(output).toContain("module 'cjson.safe' not found");
    expect(missingPackageHint(output)).toContain('apt-get install lua-cjson');
  });

  it("names the Lua module's package when nginx cannot load it", () => {
    const output = nginxOutput(
      '',
      'load_module /nonexistent/modules/ndk_http_module.so;',
    );
    expect(missingPackageHint(output)).toContain(
      'apt-get install libnginx-mod-http-lua',
    );
  });

  it('adds nothing to other failures', () => {
    // A mistake in the configuration: not a missing package.
    const output = nginxOutput('mlp_no_such_directive on;', luaModules);
    expect(output).toContain('unknown directive');
    expect(missingPackageHint(output)).toBe('');
  });
});
