-- POST creates. ESM_SOURCE=unique gives each request its own queue ARN (esmlog refuses
-- duplicates, as AWS does); any other value is used as the ARN of every request (moto).
dofile(os.getenv("ESM_WRK_DIR") .. "/common.lua")
-- Each wrk thread has its own Lua state; setup (run in the main state) numbers them.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
local counter = 0
local run = tostring(os.time())
function request()
  counter = counter + 1
  local source = os.getenv("ESM_SOURCE")
  if source == "unique" then source = "arn:aws:sqs:us-east-1:000000000000:wrk-" .. run .. "-" .. id .. "-" .. counter end
  return wrk.format("POST", path, headers, '{"FunctionName":"worker","BatchSize":10,"EventSourceArn":"' .. source .. '"}')
end
-- Appended to each script: prints one JSON line the driver reads.
function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format('WRKJSON {"requests":%d,"seconds":%.3f,"non2xx":%d,"socket_errors":%d,"p50_ms":%.3f,"p99_ms":%.3f}\n',
    summary.requests, summary.duration / 1e6, summary.errors.status, errors,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
