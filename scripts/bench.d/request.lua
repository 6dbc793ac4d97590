-- One wrk script for every case; the case comes in through environment variables:
--   BENCH_METHOD, BENCH_PATH (may contain {id} for a random product id in 1..BENCH_MAX_ID),
--   BENCH_BODY (may contain {n}, a per-thread unique counter), BENCH_HEADERS ("k: v|k: v").
-- BENCH_FLOW=sales instead runs a sales order's life per step: create (BENCH_BODY), confirm,
-- ship (BENCH_SHIP_BODY), again and again; it needs one connection per wrk thread, so each
-- thread sees its own answers in order.
local method = os.getenv("BENCH_METHOD") or "GET"
local path_tpl = os.getenv("BENCH_PATH") or "/health"
local body_tpl = os.getenv("BENCH_BODY")
local max_id = tonumber(os.getenv("BENCH_MAX_ID") or "1")
local header_spec = os.getenv("BENCH_HEADERS") or ""
local flow = os.getenv("BENCH_FLOW")
local ship_body = os.getenv("BENCH_SHIP_BODY")
local step = 0
local order_id = nil

local headers = {}
for pair in string.gmatch(header_spec, "[^|]+") do
  local k, v = string.match(pair, "^%s*([^:]+):%s*(.*)$")
  if k then headers[k] = v end
end
if body_tpl then headers["Content-Type"] = "application/json" end

local counter = 0
local thread_tag = 0
local threads = {}

function setup(thread)
  thread_tag = thread_tag + 1
  thread:set("tag", thread_tag)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + (tag or 0) * 7919)
end

function request()
  if flow == "sales" then
    if step == 1 and order_id then
      return wrk.format("POST", "/api/sales-orders/" .. order_id .. "/confirm", headers, "{}")
    elseif step == 2 and order_id then
      return wrk.format("POST", "/api/sales-orders/" .. order_id .. "/ship", headers, ship_body)
    end
    return wrk.format("POST", "/api/sales-orders", headers, body_tpl)
  end
  counter = counter + 1
  local path = string.gsub(path_tpl, "{id}", function() return tostring(math.random(1, max_id)) end)
  local body = nil
  if body_tpl then
    body = string.gsub(body_tpl, "{n}", tostring(tag or 0) .. "-" .. tostring(counter) .. "-" .. tostring(os.time()))
  end
  return wrk.format(method, path, headers, body)
end

function response(status, hdrs, body)
  if flow ~= "sales" then return end
  if step == 0 then
    order_id = body and string.match(body, '"id":(%d+)')
    if status == 201 and order_id then step = 1 end
  elseif step == 1 then
    step = (status == 200) and 2 or 0
  else
    step = 0
  end
end

function done(summary, latency, requests)
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"non2xx":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
