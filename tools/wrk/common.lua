-- Shared by the esmlog/moto wrk scripts: SDK-like headers (moto routes by the credential scope).
headers = {
  ["Content-Type"] = "application/json",
  ["User-Agent"] = "Boto3/1.43.11 wrk",
  ["Authorization"] = "AWS4-HMAC-SHA256 Credential=AKIDWRK/20261129/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=" .. string.rep("0", 64),
}
path = "/2015-03-31/event-source-mappings"

function load_uuids()
  local list = {}
  for line in io.lines(os.getenv("ESM_UUIDS")) do list[#list + 1] = line end
  return list
end

-- Each wrk thread has its own Lua state; setup (run in the main state) numbers them as `id`.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

-- Prints one JSON line that tools/bench_wrk.py reads.
function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format('WRKJSON {"requests":%d,"seconds":%.3f,"non2xx":%d,"socket_errors":%d,"p50_ms":%.3f,"p99_ms":%.3f}\n',
    summary.requests, summary.duration / 1e6, summary.errors.status, errors,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
