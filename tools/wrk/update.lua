-- Each wrk thread walks the mappings from its own half, so no mapping is updated again while its
-- previous update is still settling.
dofile(os.getenv("ESM_WRK_DIR") .. "/common.lua")
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
local uuids, i
function init(args) uuids = load_uuids(); i = math.floor((id - 1) * #uuids / 2) end
function request()
  i = i % #uuids + 1
  return wrk.format("PUT", path .. "/" .. uuids[i], headers, '{"BatchSize":' .. (i % 9 + 1) .. '}')
end
-- Appended to each script: prints one JSON line the driver reads.
function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format('WRKJSON {"requests":%d,"seconds":%.3f,"non2xx":%d,"socket_errors":%d,"p50_ms":%.3f,"p99_ms":%.3f}\n',
    summary.requests, summary.duration / 1e6, summary.errors.status, errors,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
