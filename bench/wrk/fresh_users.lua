-- wrk script: every request is a new shopper's order attempt.
--
--   wrk -t2 -c64 -d10s --latency -s bench/wrk/fresh_users.lua URL -- RUN_TAG [PATH]
--
-- POSTs {} to PATH (default /api/v1/sales/bench/orders) with an X-User-Id that
-- is unique per request: "u<RUN_TAG>-<thread>-<n>". Give each wrk run its own
-- RUN_TAG (a warm-up and the measured run against the same engine would
-- otherwise collide on the dedup key and measure 409s). The same script drives
-- nginx, so both servers see byte-identical requests.
--
-- done() prints machine-readable lines for bench/run-nginx-compare and
-- bench/run-ratelimit-compare:
--   STATUS <code> <count>        one per HTTP status seen
--   RESULT key=value ...         requests, measured duration (microseconds), rps,
--                                latency (microseconds), socket errors

local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end

function init(args)
  run_tag = args[1] or tostring(os.time())
  path = args[2] or "/api/v1/sales/bench/orders"
  prefix = string.format("u%s-%d-", run_tag, id)
  n = 0
  statuses = {}
  headers = { ["Content-Type"] = "application/json" }
end

function request()
  n = n + 1
  headers["X-User-Id"] = prefix .. n
  return wrk.format("POST", path, headers, "{}")
end

function response(status, hdrs, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    if s then
      for code, count in pairs(s) do
        total[code] = (total[code] or 0) + count
      end
    end
  end
  local codes = {}
  for code in pairs(total) do table.insert(codes, code) end
  table.sort(codes)
  for _, code in ipairs(codes) do
    io.write(string.format("STATUS %d %d\n", code, total[code]))
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d rps=%.1f lat_avg_us=%.1f lat_p50_us=%d lat_p90_us=%d " ..
    "lat_p99_us=%d lat_max_us=%d err_connect=%d err_read=%d err_write=%d err_timeout=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.timeout))
end
