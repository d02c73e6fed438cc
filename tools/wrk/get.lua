dofile(os.getenv("ESM_WRK_DIR") .. "/common.lua")
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
local uuids
function init(args) uuids = load_uuids(); math.randomseed(os.time() * 7 + id) end
function request() return wrk.format("GET", path .. "/" .. uuids[math.random(1, #uuids)], headers) end
-- Appended to each script: prints one JSON line the driver reads.
function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format('WRKJSON {"requests":%d,"seconds":%.3f,"non2xx":%d,"socket_errors":%d,"p50_ms":%.3f,"p99_ms":%.3f}\n',
    summary.requests, summary.duration / 1e6, summary.errors.status, errors,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
