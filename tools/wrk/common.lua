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
