import net from 'node:net';
import path from 'node:path';
import { CALL_LOG_FORMAT } from './CallLog';

/** What the native data plane's nginx configuration is made from. */
export interface NginxConfigOptions {
  /** Where callers reach the data plane. */
  listen: { host: string; port: number };
  /** Where Debian's nginx keeps its dynamic modules (the Lua module). */
  modulesDir: string;
  /** nginx worker processes. */
  workers: number;
  /** The user workers run as, when nginx starts as root. */
  user?: string;
  /** This start's private directory: sockets, temporary files, pid. */
  runDir: string;
  /** nginx's own log; at level info it says why each call went to the backend. */
  errorLog: string;
  /** nginx's pid file (kept with the call log, to find a leftover nginx). */
  pidFile: string;
  /** The call log the backend reads. */
  callLog: string;
  /** The backend's private socket (authorization and every other call). */
  backendSocket: string;
  /** The directory holding `mlp_gateway.lua`. */
  luaDir: string;
  /** `mlPlatform.gateway`: the same bounds as the Node gateway's. */
  maxBodyBytes: number;
  maxElements: number;
  maxJsonDepth: number;
  timeoutMs: number;
  /** Largest answer kept for the call log (larger ones are logged without it). */
  answerCapBytes: number;
}

/** Bodies up to this size stay in memory and can be checked natively. */
const IN_MEMORY_BODY_BYTES = 1024 * 1024;

/** Quotes a value for nginx's configuration language. */
function q(value: string): string {
  return `"${value.replace(/["\\$]/g, c => `\\${c}`)}"`;
}

/**
 * nginx.conf of the native data plane: the two invocation routes in Lua
 * (mlp_gateway.lua), everything else to the backend's private socket.
 */
export function renderNginxConfig(o: NginxConfigOptions): string {
  const run = (name: string) => q(path.join(o.runDir, name));
  const timeout = `${Math.max(1, Math.ceil(o.timeoutMs / 1000))}s`;
  const callLog = `access_log ${q(
    o.callLog,
  )} mlp_calls buffer=64k flush=200ms if=$mlp_record;`;
  /** A location of one invocation route; `access` is its Lua call. */
  const invocation = (access: string) => `
      set $mlp_call "";
      set $mlp_record "";
      set $mlp_answer "";
      set $mlp_replica_path "";
      access_by_lua_block {
        ${access}
      }
      proxy_pass http://mlp_replicas$mlp_replica_path;
      body_filter_by_lua_block { mlp.body_filter() }
      log_by_lua_block { mlp.log() }
      ${callLog}
      # The replica sees the body and its type, never the caller's credentials.
      proxy_pass_request_headers off;
      proxy_set_header Content-Type application/json;
      proxy_set_header Connection "";
      # A replica that refused the connection: the backend retries another.
      error_page 502 = @mlp_backend;
      error_page 504 = @mlp_timeout;`;
  return `# Written by the ml-platform backend at every start; changes are lost.
daemon off;
master_process on;
worker_processes ${o.workers};
${o.user ? `user ${o.user};\n` : ''}pid ${q(o.pidFile)};
error_log ${q(o.errorLog)} warn;
load_module ${q(path.join(o.modulesDir, 'ndk_http_module.so'))};
load_module ${q(path.join(o.modulesDir, 'ngx_http_lua_module.so'))};
events { worker_connections 4096; }
http {
  server_tokens off;
  client_body_temp_path ${run('body')};
  proxy_temp_path ${run('proxy')};
  fastcgi_temp_path ${run('fastcgi')};
  uwsgi_temp_path ${run('uwsgi')};
  scgi_temp_path ${run('scgi')};
  access_log off;
  lua_package_path ${q(`${path.join(o.luaDir, '?.lua')};;`)};
  lua_shared_dict mlp_grants 32m;
  lua_shared_dict mlp_routes 4m;
  lua_shared_dict mlp_in_flight 1m;
  init_by_lua_block {
    mlp = require "mlp_gateway"
    mlp.configure({ max_body_bytes = ${o.maxBodyBytes}, max_elements = ${
    o.maxElements
  }, max_depth = ${o.maxJsonDepth}, answer_cap = ${o.answerCapBytes} })
  }
  # Bodies raw, after a header stating their sizes (CallLog.ts reads it).
  log_format mlp_calls escape=none '${CALL_LOG_FORMAT}';

  upstream mlp_replicas {
    server 0.0.0.1;
    balancer_by_lua_block { mlp.balance() }
    keepalive 64;
  }
  upstream mlp_backend {
    server unix:${o.backendSocket};
    keepalive 16;
  }

  server {
    listen ${
      net.isIPv6(o.listen.host) ? `[${o.listen.host}]` : o.listen.host
    }:${o.listen.port};
    keepalive_requests 1000000;
    # mlp_gateway.lua reads a body only when its Content-Length is within
    # maxBodyBytes; others stream to the backend, which enforces it.
    client_max_body_size 0;
    client_body_buffer_size ${Math.min(o.maxBodyBytes, IN_MEMORY_BODY_BYTES)};
    client_body_in_single_buffer on;
    client_body_timeout ${timeout};
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_read_timeout ${timeout};
    proxy_send_timeout ${timeout};
    proxy_connect_timeout 5s;

    location ~ "^/api/ml-platform/v2/models/([A-Za-z0-9][A-Za-z0-9._-]{0,62})/infer$" {
      set $mlp_name $1;
${invocation(
  `mlp.access("v2", "v2/" .. ngx.var.mlp_name, "/v2/models/" .. ngx.var.mlp_name .. "/infer")`,
)}
    }
    location ~ "^/api/ml-platform/models/([a-z0-9][a-z0-9-]{0,62})/([A-Za-z0-9][A-Za-z0-9._-]{0,62})/predict$" {
      set $mlp_namespace $1;
      set $mlp_name $2;
${invocation(
  `mlp.access("records", "records/" .. ngx.var.mlp_namespace .. "/" .. ngx.var.mlp_name, "/invocations")`,
)}
    }
    # Whatever the native path does not take: the backend answers it as it
    # does on the portal's port.
    location / {
      proxy_pass http://mlp_backend;
      proxy_request_buffering off;
    }
    location @mlp_timeout {
      content_by_lua_block { mlp.timeout(${o.timeoutMs / 1000}) }
      log_by_lua_block { mlp.log() }
      ${callLog}
    }
    location @mlp_backend {
      proxy_pass http://mlp_backend;
      proxy_request_buffering off;
      log_by_lua_block { mlp.log_backend() }
    }
    location = /_mlp_authorize {
      internal;
      proxy_pass http://mlp_backend/authorize$is_args$args;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header Connection "";
    }
  }

  # The backend puts the replicas' addresses here; only it can reach the socket.
  server {
    listen unix:${path.join(o.runDir, 'control.sock')};
    location = /routes {
      content_by_lua_block { mlp.put_routes() }
    }
  }
}
`;
}
