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

-- The common V2 body, checked as it is read: no tables, no garbage.
-- Decoding it (cjson) cost more than the rest of a call's Lua together.
-- It takes only a strict form of what v2_accepted takes: one "inputs" key;
-- tensors of exactly name, datatype, shape and data, the datatype before
-- the data; printable ASCII strings without escapes; numbers of at most 15
-- integer digits and no exponent (exact as doubles); flat data. Anything
-- else is not refused: it answers nil and the body is decoded and checked
-- in full (nginxChecks.test.ts holds both to the Node gateway's check).
local byte, sub = string.byte, string.sub

-- How each datatype's values are read: 1 true/false, 2 string, 3 integer
-- in [low, high], 4 number of magnitude at most max.
local FAST_DATATYPES = {
  BOOL = { kind = 1 },
  BYTES = { kind = 2 },
  INT8 = { kind = 3, low = -128, high = 127 },
  INT16 = { kind = 3, low = -32768, high = 32767 },
  INT32 = { kind = 3, low = -2147483648, high = 2147483647 },
  -- 15 digits are far inside the 64-bit ranges.
  INT64 = { kind = 3, low = -math.huge, high = math.huge },
  UINT8 = { kind = 3, low = 0, high = 255 },
  UINT16 = { kind = 3, low = 0, high = 65535 },
  UINT32 = { kind = 3, low = 0, high = 4294967295 },
  UINT64 = { kind = 3, low = 0, high = math.huge },
  FP16 = { kind = 4, max = 65504 },
  -- 15 integer digits are far inside their ranges.
  FP32 = { kind = 4, max = math.huge },
  FP64 = { kind = 4, max = math.huge },
}

local function skip_space(s, i)
  local c = byte(s, i)
  while c == 32 or c == 10 or c == 13 or c == 9 do
    i = i + 1
    c = byte(s, i)
  end
  return i, c
end

-- The string whose quote is at i, when it is printable ASCII without
-- escapes: the index after its closing quote.
local function plain_string(s, i)
  i = i + 1
  local c = byte(s, i)
  while c ~= 34 do
    if c == nil or c < 32 or c > 126 or c == 92 then return nil end
    i = i + 1
    c = byte(s, i)
  end
  return i + 1
end

-- The number at i, when it has at most 15 integer digits and no exponent:
-- the index after it, its integer part (signed), whether it has a
-- fraction and whether that fraction is not zero.
local function plain_number(s, i)
  local c = byte(s, i)
  local negative = c == 45
  if negative then
    i = i + 1
    c = byte(s, i)
  end
  if c == nil or c < 48 or c > 57 then return nil end
  local value, digits = c - 48, 1
  i = i + 1
  c = byte(s, i)
  while c ~= nil and c >= 48 and c <= 57 do
    -- A leading zero is not JSON.
    if value == 0 and digits == 1 then return nil end
    digits = digits + 1
    if digits > 15 then return nil end
    value = value * 10 + (c - 48)
    i = i + 1
    c = byte(s, i)
  end
  local fraction, nonzero = false, false
  if c == 46 then
    fraction = true
    i = i + 1
    c = byte(s, i)
    if c == nil or c < 48 or c > 57 then return nil end
    while c ~= nil and c >= 48 and c <= 57 do
      if c ~= 48 then nonzero = true end
      i = i + 1
      c = byte(s, i)
    end
  end
  if c == 101 or c == 69 then return nil end
  if negative then value = -value end
  return i, value, fraction, nonzero
end

-- The shape array at i: the index after it, the elements it stands for and
-- the bounded count (a 0 dimension counts as 1).
local function fast_shape(s, i)
  local expected, bounded, dims = 1, 1, 0
  local c
  i, c = skip_space(s, i + 1)
  while true do
    -- No sign: a dimension is never negative (and -0 is left to the rest).
    if c == 45 then return nil end
    local d, fraction
    i, d, fraction = plain_number(s, i)
    if i == nil or fraction then return nil end
    dims = dims + 1
    if dims > 32 then return nil end
    expected = expected * d
    bounded = bounded * math.max(d, 1)
    if bounded > limits.max_elements then return nil end
    i, c = skip_space(s, i)
    if c == 93 then return i + 1, expected, bounded end
    if c ~= 44 then return nil end
    i, c = skip_space(s, i + 1)
  end
end

-- The flat data array at i, each value of the datatype `t`: the index
-- after it and its length.
local function fast_data(s, i, t)
  local kind, n = t.kind, 0
  local c
  i, c = skip_space(s, i + 1)
  while true do
    if kind == 1 then
      if c == 116 then
        local r, u, e = byte(s, i + 1, i + 3)
        if r ~= 114 or u ~= 117 or e ~= 101 then return nil end
        i = i + 4
      elseif c == 102 then
        local a, l, s2, e = byte(s, i + 1, i + 4)
        if a ~= 97 or l ~= 108 or s2 ~= 115 or e ~= 101 then return nil end
        i = i + 5
      else
        return nil
      end
    elseif kind == 2 then
      if c ~= 34 then return nil end
      i = plain_string(s, i)
      if i == nil then return nil end
    else
      local v, fraction, nonzero
      i, v, fraction, nonzero = plain_number(s, i)
      if i == nil then return nil end
      if kind == 3 then
        if fraction or v < t.low or v > t.high then return nil end
      else
        local magnitude = math.abs(v)
        if magnitude > t.max or (magnitude == t.max and nonzero) then return nil end
      end
    end
    n = n + 1
    i, c = skip_space(s, i)
    if c == 93 then return i + 1, n end
    if c ~= 44 then return nil end
    i, c = skip_space(s, i + 1)
  end
end

-- The key whose quote is at i, and the index of its value.
local function object_key(s, i)
  local after = plain_string(s, i)
  if after == nil then return nil end
  local key = sub(s, i + 1, after - 2)
  local c
  i, c = skip_space(s, after)
  if c ~= 58 then return nil end
  i, c = skip_space(s, i + 1)
  return key, i, c
end

-- The tensor object at i: the index after it and its bounded count.
local function fast_tensor(s, i)
  local named, datatype, expected, bounded, length
  local c, key
  i, c = skip_space(s, i + 1)
  while true do
    if c ~= 34 then return nil end
    key, i, c = object_key(s, i)
    if key == "name" then
      if named or c ~= 34 then return nil end
      local after = plain_string(s, i)
      if after == nil or after - i - 2 > 256 then return nil end
      named, i = true, after
    elseif key == "datatype" then
      if datatype or c ~= 34 then return nil end
      local after = plain_string(s, i)
      if after == nil then return nil end
      datatype = FAST_DATATYPES[sub(s, i + 1, after - 2)]
      if datatype == nil then return nil end
      i = after
    elseif key == "shape" then
      if expected or c ~= 91 then return nil end
      i, expected, bounded = fast_shape(s, i)
      if i == nil then return nil end
    elseif key == "data" then
      if length or datatype == nil or c ~= 91 then return nil end
      i, length = fast_data(s, i, datatype)
      if i == nil then return nil end
    else
      return nil
    end
    i, c = skip_space(s, i)
    if c == 125 then break end
    if c ~= 44 then return nil end
    i, c = skip_space(s, i + 1)
  end
  if not named or expected == nil or length ~= expected then return nil end
  return i + 1, bounded
end

--- True when `body` is a V2 request in the strict form above that
--- v2_accepted would accept; nil when it cannot tell.
local function v2_plainly_accepted(s)
  -- Object, array, tensor object, array: four levels.
  if limits.max_depth < 4 then return nil end
  local i, c = skip_space(s, 1)
  if c ~= 123 then return nil end
  i, c = skip_space(s, i + 1)
  if c ~= 34 then return nil end
  local key
  key, i, c = object_key(s, i)
  if key ~= "inputs" or c ~= 91 then return nil end
  i, c = skip_space(s, i + 1)
  local total = 0
  while true do
    if c ~= 123 then return nil end
    local bounded
    i, bounded = fast_tensor(s, i)
    if i == nil then return nil end
    total = total + bounded
    if total > limits.max_elements then return nil end
    i, c = skip_space(s, i)
    if c == 93 then break end
    if c ~= 44 then return nil end
    i, c = skip_space(s, i + 1)
  end
  i, c = skip_space(s, i + 1)
  if c ~= 125 then return nil end
  i, c = skip_space(s, i + 1)
  if c ~= nil then return nil end
  return true
end

-- cjson takes a tab, a line break or any other control character inside
-- a string as it is; JSON, and so the Node gateway, does not.
local function control_in_string(s)
  local i = 1
  while true do
    -- The next string's quote, then inside it its end, an escape or a control.
    local open = s:find('"', i, true)
    if open == nil then return false end
    i = open + 1
    while true do
      local j = s:find('[%z\1-\31"\\]', i)
      if j == nil then return false end
      local c = byte(s, j)
      if c == 34 then
        i = j + 1
        break
      elseif c == 92 then
        i = j + 2
      else
        return true
      end
    end
  end
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

--- Whether the Node gateway would accept `body`, decoded and checked in
--- full; when not, why.
local function decoded_and_accepted(protocol, body)
  local req = not control_in_string(body) and decoder.decode(body)
  if not req then return false, "not JSON" end
  if protocol == "v2" then return v2_accepted(req), "body not accepted" end
  return records_accepted(req), "body not accepted"
end

-- Per worker: parsed routes, keyed by their text in the shared dictionary,
-- so a call splits no string it has seen before.
local parsed_routes = {}
local turn = 0

-- Per worker too: each grant by target and Authorization header, until its
-- entry in mlp_grants expires. Looking a grant up there hashes and compares
-- the whole header (a token of a kilobyte) under the dictionary's lock.
local worker_grants, worker_grant_count = {}, 0

local function remembered_grant(target, auth)
  local by_auth = worker_grants[target]
  local entry = by_auth and by_auth[auth]
  if entry and entry.expires > ngx.now() then return entry.grant end
  return nil
end

local function remember_grant(target, auth, grant, ttl)
  if not ttl or ttl <= 0 then return end
  if worker_grant_count >= 4096 then worker_grants, worker_grant_count = {}, 0 end
  local by_auth = worker_grants[target]
  if not by_auth then
    by_auth = {}
    worker_grants[target] = by_auth
  end
  if not by_auth[auth] then worker_grant_count = worker_grant_count + 1 end
  by_auth[auth] = { grant = grant, expires = ngx.now() + ttl }
end

-- Parsed once per worker and grant: remember_grant keeps the result.
local function parse_grant(text)
  local deployment, model, kind, caller = text:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)$")
  if not deployment then return nil end
  return { deployment = deployment, model = model, kind = kind, caller = caller }
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
  local grant = remembered_grant(target, auth)
  if not grant then
    local key = auth .. "\n" .. target
    local grants = ngx.shared.mlp_grants
    local text = grants:get(key)
    -- Seconds the grant has left.
    local ttl
    if text then
      ttl = grants:ttl(key)
    else
      local res = ngx.location.capture("/_mlp_authorize", { args = { target = target } })
      if res.status ~= 200 then return to_backend("not authorized") end
      text = res.body
      ttl = (tonumber(res.header["X-Mlp-Grant-Ttl-Ms"]) or 0) / 1000
      if ttl > 0 then grants:set(key, text, ttl) end
    end
    grant = parse_grant(text)
    if not grant then return to_backend("unreadable grant") end
    remember_grant(target, auth, grant, ttl)
  end
  -- Timed from here, as the Node gateway times a call once it is authorized.
  local started = now_us()

  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  -- No body, or one too large for memory (left in a temporary file).
  if not body then return to_backend("body not in memory") end
  if not (protocol == "v2" and v2_plainly_accepted(body)) then
    local accepted, why = decoded_and_accepted(protocol, body)
    if not accepted then return to_backend(why) end
  end

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

--- The body checks alone, for nginxChecks.test.ts: whether the strict
--- reading accepts `body` ("plain" or "-"), then whether the full check
--- does, as access() checks a call of `protocol` ("v2" or "records").
function M.check(protocol, body)
  local plain = protocol == "v2" and v2_plainly_accepted(body)
  local accepted = decoded_and_accepted(protocol, body)
  return (plain and "plain" or "-") .. " " .. (accepted and "accepted" or "refused")
end

--- The per-worker grants alone, for nginxChecks.test.ts.
M.remembered_grant, M.remember_grant = remembered_grant, remember_grant

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
