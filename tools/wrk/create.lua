-- POST creates. ESM_SOURCE=unique gives each request its own queue ARN (esmlog refuses
-- duplicates, as AWS does); any other value is used as the ARN of every request (moto).
dofile(os.getenv("ESM_WRK_DIR") .. "/common.lua")
local counter = 0
local run = (os.getenv("ESM_RUN") or "") .. tostring(os.time())
function request()
  counter = counter + 1
  local source = os.getenv("ESM_SOURCE")
  if source == "unique" then source = "arn:aws:sqs:us-east-1:000000000000:wrk-" .. run .. "-" .. id .. "-" .. counter end
  return wrk.format("POST", path, headers, '{"FunctionName":"worker","BatchSize":10,"EventSourceArn":"' .. source .. '"}')
end
