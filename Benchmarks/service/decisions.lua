-- wrk script: the decision API for random open cases (scripts/bench-service).
--   wrk -s decisions.lua URL -- TARGETS.lua API_KEY
-- TARGETS.lua defines `cases = {{customer, invoice}, ...}`; every request has a new request id.
local counter = 1
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local n, headers = 0, nil
function init(args)
  dofile(args[1])
  headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. args[2]}
end

function request()
  n = n + 1
  local c = cases[(n * 7919 + tid * 104729) % #cases + 1]
  local body = string.format('{"customer_id":"%s","invoice_id":"%s","request_id":"bench-%d-%d"}', c[1], c[2], tid, n)
  return wrk.format("POST", "/v1/decisions", headers, body)
end

function done(summary, latency, requests)
  io.write(string.format('{"requests": %d, "duration_s": %.3f, "non2xx": %d, "socket_errors": %d, "timeouts": %d, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write,
    summary.errors.timeout, latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
