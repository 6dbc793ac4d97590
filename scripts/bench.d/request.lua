-- One wrk script for every case; the case comes in through environment variables:
--   BENCH_METHOD, BENCH_PATH (may contain {id} for a random product id in 1..BENCH_MAX_ID),
--   BENCH_BODY (may contain {n}, a per-thread unique counter), BENCH_HEADERS ("k: v|k: v").
local method = os.getenv("BENCH_METHOD") or "GET"
local path_tpl = os.getenv("BENCH_PATH") or "/health"
local body_tpl = os.getenv("BENCH_BODY")
local max_id = tonumber(os.getenv("BENCH_MAX_ID") or "1")
local header_spec = os.getenv("BENCH_HEADERS") or ""

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
  counter = counter + 1
  local path = string.gsub(path_tpl, "{id}", function() return tostring(math.random(1, max_id)) end)
  local body = nil
  if body_tpl then
    body = string.gsub(body_tpl, "{n}", tostring(tag or 0) .. "-" .. tostring(counter) .. "-" .. tostring(os.time()))
  end
  return wrk.format(method, path, headers, body)
end

function done(summary, latency, requests)
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"non2xx":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
