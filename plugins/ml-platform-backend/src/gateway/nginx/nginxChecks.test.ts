import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { churnRow, churnV2Body } from '../../__testUtils__/churnReference';
import { freePort } from '../../__testUtils__/prometheus';
import { waitFor } from '../../__testUtils__/modelRepository';
import {
  describeWithNginx as describeNginx,
  NGINX,
  NGINX_MODULES as MODULES,
} from '../../__testUtils__/nginx';
import {
  checkRecordsRequest,
  checkV2Request,
  InvocationLimits,
} from '../invocationLimits';

const LUA_DIR = path.resolve(__dirname, '../../../nginx');
const describeWithNginx = describeNginx();

/**
 * mlp_gateway.lua's V2 body checks in a bare nginx: each body posted to it
 * answers whether the strict reading took it ("plain") and whether the full
 * check (cjson, then v2_accepted) accepts it.
 */
async function startChecks(limits: InvocationLimits) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-nginx-checks-'));
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(
    conf,
    `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
load_module ${MODULES}/ndk_http_module.so;
load_module ${MODULES}/ngx_http_lua_module.so;
events {}
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  lua_package_path "${LUA_DIR}/?.lua;;";
  init_by_lua_block {
    mlp = require "mlp_gateway"
    mlp.configure({ max_body_bytes = 1048576, max_elements = ${limits.maxElements}, max_depth = ${limits.maxJsonDepth}, answer_cap = 1048576 })
  }
  server {
    listen 127.0.0.1:${port};
    client_body_buffer_size 1m;
    client_body_in_single_buffer on;
    location = /grant {
      content_by_lua_block {
        local a = ngx.var.arg_auth
        if ngx.var.arg_ttl then mlp.remember_grant("v2/churn", a, { deployment = a }, tonumber(ngx.var.arg_ttl)) end
        local g = mlp.remembered_grant("v2/churn", a)
        ngx.print(g and g.deployment or "-")
      }
    }
    location = /check {
      content_by_lua_block {
        ngx.req.read_body()
        ngx.print(mlp.check(ngx.var.arg_protocol, ngx.req.get_body_data() or ""))
      }
    }
  }
}
`,
  );
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-c', conf], {
    stdio: 'ignore',
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const check = (body: Buffer | string, protocol = 'v2') =>
    new Promise<{ plain: boolean; accepted: boolean }>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: `/check?protocol=${protocol}`,
          method: 'POST',
          agent,
        },
        res => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', c => {
            text += c;
          });
          res.on('end', () => {
            const [plain, accepted] = text.split(' ');
            if (res.statusCode !== 200 || !accepted) {
              reject(new Error(`nginx answered ${res.statusCode}: ${text}`));
            } else {
              resolve({
                plain: plain === 'plain',
                accepted: accepted === 'accepted',
              });
            }
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  await waitFor(
    () =>
      check('{}').then(
        () => true,
        () => undefined,
      ),
    {
      what: 'nginx to answer',
      timeoutMs: 10_000,
    },
  );
  return {
    check,
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      agent.destroy();
      const exited = new Promise(r => child.once('exit', r));
      child.kill('SIGQUIT');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const limits: InvocationLimits = { maxElements: 64, maxJsonDepth: 32 };

/** Whether the Node gateway accepts `body`. */
function nodeAccepts(body: string | Buffer, l = limits) {
  try {
    checkV2Request(Buffer.from(body), l);
    return true;
  } catch {
    return false;
  }
}

const tensor = (datatype: string, data: unknown[], shape = [data.length]) => ({
  name: `t_${datatype.toLowerCase()}`,
  datatype,
  shape,
  data,
});

/** Bodies the strict reading must take: the forms clients send. */
const plainBodies: Record<string, string> = {
  'churn, 1 row': JSON.stringify(churnV2Body([churnRow(0)])),
  'churn, 8 rows': JSON.stringify(
    churnV2Body([0, 1, 2, 3, 4, 5, 6, 7].map(churnRow)),
  ),
  'churn, pretty-printed': JSON.stringify(churnV2Body([churnRow(1)]), null, 2),
  'every datatype at its edges': JSON.stringify({
    inputs: [
      tensor('BOOL', [true, false]),
      tensor('BYTES', ['', 'month-to-month', ' ~!#']),
      tensor('INT8', [-128, 127, 0, -0]),
      tensor('INT16', [-32768, 32767]),
      tensor('INT32', [-2147483648, 2147483647]),
      tensor('INT64', [-999999999999999, 999999999999999]),
      tensor('UINT8', [0, 255]),
      tensor('UINT16', [65535]),
      tensor('UINT32', [4294967295]),
      tensor('UINT64', [999999999999999]),
      tensor('FP16', [65504, -65504, 65503.99, 0.5, -0.0001]),
      tensor('FP32', [3.25, -123456789012345.6]),
      tensor('FP64', [0.1, 123456789012345.678901]),
    ],
  }),
  'keys in any order, the datatype before the data':
    '{"inputs":[{"shape":[2,2],"datatype":"FP64","data":[1,2,3,4],"name":"x"}]}',
  'a 2-D shape': JSON.stringify({
    inputs: [tensor('INT32', [1, 2, 3, 4, 5, 6], [2, 3])],
  }),
  'as many elements as allowed': JSON.stringify({
    inputs: [
      tensor('BOOL', new Array(32).fill(true)),
      tensor('BOOL', new Array(32).fill(false)),
    ],
  }),
  'a name of 256 characters': JSON.stringify({
    inputs: [{ ...tensor('INT8', [1]), name: 'n'.repeat(256) }],
  }),
};

/** Bodies the strict reading must leave to the full check. */
const notPlainBodies: Record<string, string> = {
  'out of the INT8 range': JSON.stringify({ inputs: [tensor('INT8', [128])] }),
  'out of the UINT8 range': JSON.stringify({ inputs: [tensor('UINT8', [-1])] }),
  'above the FP16 range by a fraction':
    '{"inputs":[{"name":"a","datatype":"FP16","shape":[1],"data":[65504.5]}]}',
  'above the FP16 range': JSON.stringify({ inputs: [tensor('FP16', [65505])] }),
  'an integer written with a fraction':
    '{"inputs":[{"name":"a","datatype":"INT8","shape":[1],"data":[3.0]}]}',
  'a fraction for an integer':
    '{"inputs":[{"name":"a","datatype":"INT8","shape":[1],"data":[3.5]}]}',
  'an exponent':
    '{"inputs":[{"name":"a","datatype":"FP64","shape":[1],"data":[1e3]}]}',
  'a huge exponent':
    '{"inputs":[{"name":"a","datatype":"FP64","shape":[1],"data":[1e400]}]}',
  'a leading zero':
    '{"inputs":[{"name":"a","datatype":"INT32","shape":[1],"data":[01]}]}',
  'sixteen digits':
    '{"inputs":[{"name":"a","datatype":"INT64","shape":[1],"data":[9007199254740993]}]}',
  'an escape in a string':
    '{"inputs":[{"name":"a\\"b","datatype":"BYTES","shape":[1],"data":["x"]}]}',
  'a non-ASCII string':
    '{"inputs":[{"name":"é","datatype":"BYTES","shape":[1],"data":["x"]}]}',
  'a tab in a string':
    '{"inputs":[{"name":"a\tb","datatype":"BYTES","shape":[1],"data":["x"]}]}',
  'another top-level key':
    '{"id":"1","inputs":[{"name":"a","datatype":"INT8","shape":[1],"data":[1]}]}',
  'parameters in a tensor':
    '{"inputs":[{"name":"a","datatype":"INT8","shape":[1],"data":[1],"parameters":{}}]}',
  'a duplicate key':
    '{"inputs":[{"name":"a","datatype":"INT8","datatype":"BOOL","shape":[1],"data":[1]}]}',
  'the data before the datatype':
    '{"inputs":[{"name":"a","shape":[1],"data":[1],"datatype":"INT8"}]}',
  'nested data':
    '{"inputs":[{"name":"a","datatype":"INT8","shape":[2,1],"data":[[1],[2]]}]}',
  'no inputs': '{"inputs":[]}',
  'an empty shape':
    '{"inputs":[{"name":"a","datatype":"INT8","shape":[],"data":[1]}]}',
  'a negative dimension':
    '{"inputs":[{"name":"a","datatype":"INT8","shape":[-1],"data":[1]}]}',
  'a fractional dimension':
    '{"inputs":[{"name":"a","datatype":"INT8","shape":[1.5],"data":[1]}]}',
  'too few values':
    '{"inputs":[{"name":"a","datatype":"INT8","shape":[3],"data":[1,2]}]}',
  'a missing name': '{"inputs":[{"datatype":"INT8","shape":[1],"data":[1]}]}',
  'an unknown datatype':
    '{"inputs":[{"name":"a","datatype":"INT128","shape":[1],"data":[1]}]}',
  'a null value':
    '{"inputs":[{"name":"a","datatype":"FP64","shape":[1],"data":[null]}]}',
  'a string for a number':
    '{"inputs":[{"name":"a","datatype":"FP64","shape":[1],"data":["1"]}]}',
  'a number for a boolean':
    '{"inputs":[{"name":"a","datatype":"BOOL","shape":[1],"data":[1]}]}',
  'a truncated literal':
    '{"inputs":[{"name":"a","datatype":"BOOL","shape":[1],"data":[tru]}]}',
  'trailing bytes':
    '{"inputs":[{"name":"a","datatype":"INT8","shape":[1],"data":[1]}]}x',
  'a trailing comma':
    '{"inputs":[{"name":"a","datatype":"INT8","shape":[1],"data":[1,]}]}',
  'cut short':
    '{"inputs":[{"name":"a","datatype":"INT8","shape":[1],"data":[1]}',
  'more elements than maxElements': JSON.stringify({
    inputs: [tensor('BOOL', new Array(65).fill(true))],
  }),
  'tensors above maxElements together': JSON.stringify({
    inputs: [
      tensor('BOOL', new Array(40).fill(true)),
      tensor('BOOL', new Array(40).fill(true)),
    ],
  }),
  'no data for a 0 dimension':
    '{"inputs":[{"name":"a","datatype":"INT8","shape":[0,5],"data":[]}]}',
  'a 0 dimension counted as 1 above maxElements':
    '{"inputs":[{"name":"a","datatype":"INT8","shape":[0,65],"data":[]}]}',
  'a name of 257 characters': JSON.stringify({
    inputs: [{ ...tensor('INT8', [1]), name: 'n'.repeat(257) }],
  }),
  'a byte-order mark': `\ufeff${JSON.stringify({
    inputs: [tensor('INT8', [1])],
  })}`,
};

/** A small seeded generator, so a failure can be replayed. */
function random(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s % n;
  };
}

describeWithNginx(
  "the native gateway's V2 body checks (mlp_gateway.lua)",
  () => {
    let checks: Awaited<ReturnType<typeof startChecks>>;

    beforeAll(async () => {
      checks = await startChecks(limits);
    });
    afterAll(async () => {
      await checks?.stop();
    });

    it.each(Object.entries(plainBodies))(
      'reads %s without decoding it',
      async (_, body) => {
        expect(nodeAccepts(body)).toBe(true);
        expect(await checks.check(body)).toEqual({
          plain: true,
          accepted: true,
        });
      },
    );

    it.each(Object.entries(notPlainBodies))(
      'leaves a body with %s to the full check',
      async (_, body) => {
        const { plain, accepted } = await checks.check(body);
        expect(plain).toBe(false);
        // Whatever the full check says, it never takes what the Node gateway refuses.
        expect(!accepted || nodeAccepts(body)).toBe(true);
      },
    );

    it('never takes a body the Node gateway refuses, either way (mutated bodies)', async () => {
      const next = random(20261205);
      const alphabet = '{}[]",:.-+0123456789eEtrufalsn \t\n\\/xé\u0000';
      const seeds = Object.values(plainBodies);
      let plain = 0;
      let refusedByNode = 0;
      for (let i = 0; i < 1500; i++) {
        let body = seeds[next(seeds.length)];
        for (let m = 1 + next(2); m > 0; m--) {
          const at = next(body.length + 1);
          const char = alphabet[next(alphabet.length)];
          const op = next(4);
          if (op === 0) body = body.slice(0, at) + char + body.slice(at + 1);
          else if (op === 1) body = body.slice(0, at) + char + body.slice(at);
          else if (op === 2) body = body.slice(0, at) + body.slice(at + 1);
          else {
            // A digit for a digit: mostly still good, sometimes out of range.
            const digits = [...body.matchAll(/\d/g)].map(d => d.index!);
            const d = digits[next(digits.length)];
            body = body.slice(0, d) + String(next(10)) + body.slice(d + 1);
          }
        }
        const node = nodeAccepts(body);
        const lua = await checks.check(body);
        if (!node) refusedByNode++;
        if (lua.plain) plain++;
        if ((lua.plain || lua.accepted) && !node) {
          throw new Error(`taken, but the Node gateway refuses it: ${body}`);
        }
        if (lua.plain && !lua.accepted) {
          throw new Error(`read plainly, but refused in full: ${body}`);
        }
      }
      // The mutations both keep bodies good and break them.
      expect(plain).toBeGreaterThan(40);
      expect(refusedByNode).toBeGreaterThan(500);
    });

    it('refuses control characters inside strings, as JSON does, on both routes', async () => {
      const v2 =
        '{"inputs":[{"name":"a\tb","datatype":"BYTES","shape":[1],"data":["x"]}]}';
      const records = '{"dataframe_records":[{"contract":"month\nto-month"}]}';
      expect(nodeAccepts(v2)).toBe(false);
      expect(() => checkRecordsRequest(Buffer.from(records), limits)).toThrow();
      expect(await checks.check(v2)).toEqual({ plain: false, accepted: false });
      expect(await checks.check(records, 'records')).toEqual({
        plain: false,
        accepted: false,
      });
      // Escaped, they are JSON.
      const escaped = records.replace('\n', '\\n');
      expect(() =>
        checkRecordsRequest(Buffer.from(escaped), limits),
      ).not.toThrow();
      expect(await checks.check(escaped, 'records')).toEqual({
        plain: false,
        accepted: true,
      });
    });

    it('forgets a grant when its time is up, and never keeps one without a time', async () => {
      const grant = (query: string) =>
        fetch(`${checks.url}/grant?${query}`).then(r => r.text());
      expect(await grant('auth=A&ttl=0.4')).toBe('A');
      expect(await grant('auth=B&ttl=0')).toBe('-');
      expect(await grant('auth=C')).toBe('-');
      await new Promise(r => setTimeout(r, 150));
      expect(await grant('auth=A')).toBe('A');
      await new Promise(r => setTimeout(r, 400));
      expect(await grant('auth=A')).toBe('-');
    });

    it('leaves every body to the full check when maxJsonDepth is under 4', async () => {
      const shallow = await startChecks({ maxElements: 64, maxJsonDepth: 3 });
      try {
        const body = plainBodies['churn, 1 row'];
        expect(nodeAccepts(body, { maxElements: 64, maxJsonDepth: 3 })).toBe(
          false,
        );
        expect(await shallow.check(body)).toEqual({
          plain: false,
          accepted: false,
        });
      } finally {
        await shallow.stop();
      }
    });
  },
);
