-- The gateway's native data plane: the per-call work of an invocation inside
-- nginx (src/gateway/nginx/NginxGateway.ts writes the configuration that
-- loads this file and supervises the nginx that runs it).
--
-- A call takes the native path only when everything about it is already
-- known good: the caller's Authorization header was authorized for this
-- model by the backend in the last few seconds, the body is JSON that passes
-- the same bounds and V2 checks as the Node gateway's (invocationLimits.ts),
-- and the deployment has a ready replica. Anything else (a new token, a
-- refused one, a body the checks do not accept, a deployment scaled to zero,
-- a replica that refuses the connection) goes to the backend's own gateway,
-- which answers exactly as it does on the portal's port: its errors, its cold
-- starts, its retries. This file never refuses a call itself.
--
-- Each native call is written to the call log (one JSON line); the backend
-- reads it off the call path for metrics, prediction events and idle
-- tracking.

local cjson = require "cjson.safe"
local ffi = require "ffi"

ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } mlp_timespec;
  int clock_gettime(int clk, mlp_timespec *tp);
]]
local timespec = ffi.new("mlp_timespec")
local CLOCK_MONOTONIC = 1

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1e6 + tonumber(timespec.tv_nsec) / 1e3
end

local M = {}

local limits = { max_body_bytes = 10485760, max_elements = 1000000, max_depth = 32, answer_cap = 1048576 }
local decoder = cjson.new()

--- Called once from init_by_lua with mlPlatform.gateway's bounds.
function M.configure(options)
  limits.max_body_bytes = options.max_body_bytes
  limits.max_elements = options.max_elements
  limits.max_depth = options.max_depth
  limits.answer_cap = options.answer_cap
  decoder.decode_max_depth(options.max_depth)
  -- NaN, Infinity and hexadecimal numbers are not JSON.
  decoder.decode_invalid_numbers(false)
end

-- V2 datatypes: the check of each value (invocationLimits.ts `valueProblem`).
local function integer_check(low, high, high_exclusive)
  return function(v)
    if type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge then
      return false
    end
    if v ~= math.floor(v) or v < low then return false end
    if high_exclusive then return v < high end
    return v <= high
  end
end

local function float_check(max)
  return function(v)
    return type(v) == "number" and v == v and math.abs(v) <= max
  end
end

local DATATYPES = {
  BOOL = function(v) return type(v) == "boolean" end,
  BYTES = function(v) return type(v) == "string" end,
  INT8 = integer_check(-128, 127),
  INT16 = integer_check(-32768, 32767),
  INT32 = integer_check(-2147483648, 2147483647),
  INT64 = integer_check(-2 ^ 63, 2 ^ 63, true),
  UINT8 = integer_check(0, 255),
  UINT16 = integer_check(0, 65535),
  UINT32 = integer_check(0, 4294967295),
  UINT64 = integer_check(0, 2 ^ 64, true),
  FP16 = float_check(65504),
  FP32 = float_check(3.4028234663852886e38),
  FP64 = float_check(1.7976931348623157e308),
}

local MAX_SAFE_INTEGER = 9007199254740991

-- cjson decodes [] and {} alike, so an empty table is neither array nor
-- object here: every check below wants a non-empty array where it expects
-- one, and leaves anything else to the Node gateway.
local function is_array(t)
  return type(t) == "table" and t[1] ~= nil
end

local function is_object(t)
  return type(t) == "table" and t[1] == nil
end

--- True when the Node gateway's checkV2Request would accept `req` (flat
--- data only: nested data is left to the Node gateway).
local function v2_accepted(req)
  if not is_object(req) or not is_array(req.inputs) then return false end
  local inputs = req.inputs
  local max = limits.max_elements
  local total = 0
  for i = 1, #inputs do
    local t = inputs[i]
    if not is_object(t) then return false end
    if type(t.name) ~= "string" or #t.name > 256 then return false end
    local shape = t.shape
    if not is_array(shape) or #shape > 32 then return false end
    local bounded, expected = 1, 1
    for k = 1, #shape do
      local d = shape[k]
      if type(d) ~= "number" or d < 0 or d ~= math.floor(d) or d > MAX_SAFE_INTEGER then
        return false
      end
      bounded = bounded * math.max(d, 1)
      expected = expected * d
      if bounded > max then return false end
    end
    total = total + bounded
    if total > max then return false end
    local check = DATATYPES[t.datatype]
    if not check then return false end
    local data = t.data
    if not is_array(data) or #data ~= expected then return false end
    for k = 1, #data do
      if not check(data[k]) then return false end
    end
  end
  return true
end

local RECORDS_KEYS = { "dataframe_records", "dataframe_split", "instances", "inputs" }

-- Array items anywhere in a decoded value (invocationLimits.ts `scanJson`).
local function array_items(v)
  if type(v) ~= "table" then return 0 end
  local n = #v
  for _, x in pairs(v) do
    if type(x) == "table" then n = n + array_items(x) end
  end
  return n
end

--- True when the Node gateway's checkRecordsRequest would accept `req`.
local function records_accepted(req)
  if not is_object(req) then return false end
  local known = false
  for _, key in ipairs(RECORDS_KEYS) do
    if req[key] ~= nil then known = true end
  end
  return known and array_items(req) <= limits.max_elements
end

-- Per worker: parsed grants and routes, keyed by their text in the shared
-- dictionaries, so a call splits no string it has seen before.
local parsed_grants, grant_count = {}, 0
local parsed_routes = {}
local turn = 0

local function parse_grant(text)
  local grant = parsed_grants[text]
  if grant then return grant end
  local deployment, model, kind, caller = text:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)$")
  if not deployment then return nil end
  grant = { deployment = deployment, model = model, kind = kind, caller = caller }
  if grant_count >= 10000 then parsed_grants, grant_count = {}, 0 end
  parsed_grants[text] = grant
  grant_count = grant_count + 1
  return grant
end

local function parse_route(text)
  local route = parsed_routes[text]
  if route then return route end
  local build, list = text:match("^([^\t]*)\t(.*)$")
  if not build then return nil end
  local peers = {}
  for host, port in list:gmatch("([^,:]+):(%d+)") do
    peers[#peers + 1] = { host = host, port = tonumber(port) }
  end
  if #peers == 0 then return nil end
  route = { build = build, peers = peers }
  parsed_routes[text] = route
  return route
end

--- The backend's routes (one line per deployment: id, build, host:port
--- list), put by the backend on the control socket; answers the native calls
--- under way per deployment.
function M.put_routes()
  ngx.req.read_body()
  local body = ngx.req.get_body_data() or ""
  local routes = ngx.shared.mlp_routes
  local seen = {}
  for id, rest in body:gmatch("([^\t\n]+)\t([^\n]*)") do
    routes:set(id, rest)
    seen[id] = true
  end
  for _, id in ipairs(routes:get_keys(0)) do
    if not seen[id] then routes:delete(id) end
  end
  parsed_routes = {}
  local in_flight = ngx.shared.mlp_in_flight
  local out = {}
  for _, id in ipairs(in_flight:get_keys(0)) do
    local n = in_flight:get(id)
    if n and n > 0 then out[#out + 1] = id .. "\t" .. n end
  end
  ngx.header["Content-Type"] = "text/plain"
  ngx.print(table.concat(out, "\n"))
end

local function to_backend(why)
  ngx.log(ngx.INFO, "to the backend: ", why)
  return ngx.exec("@mlp_backend")
end

local function json_media_type(header)
  if not header then return false end
  local media = header:match("^%s*([^;]-)%s*$") or header:match("^%s*([^;]-)%s*;")
  return media ~= nil and media:lower() == "application/json"
end

--- The access phase of an invocation: `protocol` is "v2" or "records",
--- `target` what the backend authorizes ("v2/<name>", "records/<ns>/<name>").
function M.access(protocol, target, replica_path)
  if ngx.req.get_method() ~= "POST" or not json_media_type(ngx.var.content_type) then
    return to_backend("method or media type")
  end

  -- Bodies of unknown or too large a size stream to the backend, which
  -- stops reading at its limit (a 413), as on the portal's port.
  local length = tonumber(ngx.var.http_content_length)
  if not length or length > limits.max_body_bytes then return to_backend("body length") end

  local auth = ngx.var.http_authorization
  if not auth then return to_backend("no credentials") end
  local key = auth .. "\n" .. target
  local grants = ngx.shared.mlp_grants
  local text = grants:get(key)
  if not text then
    local res = ngx.location.capture("/_mlp_authorize", { args = { target = target } })
    if res.status ~= 200 then return to_backend("not authorized") end
    text = res.body
    local ttl = tonumber(res.header["X-Mlp-Grant-Ttl-Ms"]) or 0
    if ttl > 0 then grants:set(key, text, ttl / 1000) end
  end
  local grant = parse_grant(text)
  if not grant then return to_backend("unreadable grant") end
  -- Timed from here, as the Node gateway times a call once it is authorized.
  local started = now_us()

  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  -- No body, or one too large for memory (left in a temporary file).
  if not body then return to_backend("body not in memory") end
  local req = decoder.decode(body)
  if req == nil then return to_backend("not JSON") end
  local accepted
  if protocol == "v2" then accepted = v2_accepted(req) else accepted = records_accepted(req) end
  if not accepted then return to_backend("body not accepted") end

  local route_text = ngx.shared.mlp_routes:get(grant.deployment)
  local route = route_text and parse_route(route_text)
  -- Scaled to zero, deploying, or no replica ready: the backend wakes it.
  if not route then return to_backend("no ready replica") end
  turn = turn + 1
  local peer = route.peers[turn % #route.peers + 1]

  ngx.ctx.peer = peer
  local in_flight = ngx.shared.mlp_in_flight:incr(grant.deployment, 1, 0)
  local vars = ngx.var
  -- What the log needs, in one variable: variables, unlike ngx.ctx,
  -- survive the redirect of a timeout, and each one set costs a lookup.
  vars.mlp_call = string.format("%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s", started,
    in_flight, #body, grant.deployment, route.build, grant.model, protocol, grant.kind,
    grant.caller)
  vars.mlp_replica_path = replica_path
end

--- balancer_by_lua: the replica access() picked.
function M.balance()
  local balancer = require "ngx.balancer"
  local peer = ngx.ctx.peer
  local ok, err = balancer.set_current_peer(peer.host, peer.port)
  if not ok then
    ngx.log(ngx.ERR, "mlp gateway: ", err)
    return ngx.exit(502)
  end
end

--- body_filter_by_lua: keeps the answer (up to the cap) for the call log.
function M.body_filter()
  local ctx = ngx.ctx
  if ctx.peer == nil then return end
  local chunk, eof = ngx.arg[1], ngx.arg[2]
  if chunk ~= "" then
    ctx.size = (ctx.size or 0) + #chunk
    if ctx.size > limits.answer_cap then
      ctx.answer = nil -- logged without the answer
    elseif ctx.answer then
      ctx.answer[#ctx.answer + 1] = chunk
    elseif ctx.size == #chunk then
      ctx.answer = { chunk }
    end
  end
  if eof and ctx.answer and ctx.size <= limits.answer_cap then
    local answer = #ctx.answer == 1 and ctx.answer[1] or table.concat(ctx.answer)
    ngx.var.mlp_answer = answer
    ctx.kept = #answer
  end
end

-- The fields access() kept for the log: start, calls in flight, request
-- bytes, then deployment, build, model, protocol, caller kind and caller.
local function logged_call()
  local call = ngx.var.mlp_call
  if call == nil or call == "" then return nil end
  return call:match("^(%d+)\t(%d+)\t(%d+)\t(([^\t]*)\t.*)$")
end

--- log_by_lua: the call log record's header (CallLog.ts), and the call is
--- no longer in flight.
function M.log()
  local started, in_flight, request_bytes, fields, deployment = logged_call()
  if not started then return end
  local ctx = ngx.ctx
  ngx.var.mlp_record = string.format("%s\t%d\t%d\t%s\t%.3f\t%s\t%d\t%d\t", fields,
    ngx.status, now_us() - tonumber(started), in_flight, ngx.now(), request_bytes,
    ctx.size or 0, ctx.kept or 0)
  ngx.shared.mlp_in_flight:incr(deployment, -1, 1)
end

--- The answer when the model did not answer in time: the Node gateway's.
function M.timeout(seconds)
  ngx.status = 504
  ngx.header["Content-Type"] = "application/json; charset=utf-8"
  ngx.print(cjson.encode({
    error = {
      name = "GatewayTimeoutError",
      message = "The model did not answer within " .. seconds .. " s",
    },
    request = { method = ngx.req.get_method(), url = ngx.var.request_uri },
    response = { statusCode = 504 },
  }))
end

--- log_by_lua of the backend's location: a call that went native first and
--- then to the backend (its replica refused the connection) is no longer
--- in flight here; the backend records it.
function M.log_backend()
  local started, _, _, _, deployment = logged_call()
  if started then ngx.shared.mlp_in_flight:incr(deployment, -1, 1) end
end

return M
