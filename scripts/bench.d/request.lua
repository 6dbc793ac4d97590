-- One wrk script for every case; the case comes in through environment variables:
--   BENCH_METHOD, BENCH_PATH (may contain {id} for a random product id in 1..BENCH_MAX_ID),
--   BENCH_BODY (may contain {n}, a per-thread unique counter), BENCH_HEADERS ("k: v|k: v").
-- BENCH_FLOW=confirm-ship instead confirms and then ships (BENCH_SHIP_BODY) the draft sales
-- orders BENCH_MIN_ID..BENCH_MAX_ID, one request a step: thread k of BENCH_THREADS takes the
-- ids k-1, k-1+BENCH_THREADS, ... above BENCH_MIN_ID. It needs one connection per wrk thread,
-- so each thread sees its own answers in order.
-- BENCH_IDS (comma-separated) gives each thread one id of its own for {pid} in the body:
-- thread k takes the k-th, so 64 threads are 64 sellers of 64 different products.
local method = os.getenv("BENCH_METHOD") or "GET"
local path_tpl = os.getenv("BENCH_PATH") or "/health"
local body_tpl = os.getenv("BENCH_BODY")
local max_id = tonumber(os.getenv("BENCH_MAX_ID") or "1")
local header_spec = os.getenv("BENCH_HEADERS") or ""
local flow = os.getenv("BENCH_FLOW")
local ship_body = os.getenv("BENCH_SHIP_BODY")
local min_id = tonumber(os.getenv("BENCH_MIN_ID") or "1")
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local own_ids = {}
for x in string.gmatch(os.getenv("BENCH_IDS") or "", "[^,]+") do table.insert(own_ids, x) end
local step = 1
local next_id = nil
local order_id = nil

local headers = {}
for pair in string.gmatch(header_spec, "[^|]+") do
  local k, v = string.match(pair, "^%s*([^:]+):%s*(.*)$")
  if k then headers[k] = v end
end
if body_tpl or flow then headers["Content-Type"] = "application/json" end

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
  next_id = min_id + (tag or 1) - 1
end

function request()
  if flow == "confirm-ship" then
    if step == 2 and order_id then
      return wrk.format("POST", "/api/sales-orders/" .. order_id .. "/ship", headers, ship_body)
    end
    return wrk.format("POST", "/api/sales-orders/" .. next_id .. "/confirm", headers, "{}")
  end
  counter = counter + 1
  local path = string.gsub(path_tpl, "{id}", function() return tostring(math.random(1, max_id)) end)
  local body = nil
  if body_tpl then
    body = string.gsub(body_tpl, "{n}", tostring(tag or 0) .. "-" .. tostring(counter) .. "-" .. tostring(os.time()))
    if #own_ids > 0 then
      body = string.gsub(body, "{pid}", own_ids[((tag or 1) - 1) % #own_ids + 1])
    end
  end
  return wrk.format(method, path, headers, body)
end

function response(status, hdrs, body)
  if flow ~= "confirm-ship" then return end
  if step == 1 then
    -- A draft that did not confirm (none left, or taken) is skipped; errors show in the table.
    if status == 200 then
      order_id = next_id
      step = 2
    end
    next_id = next_id + nthreads
  else
    step = 1
  end
end

function done(summary, latency, requests)
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"non2xx":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
