-- Each wrk thread walks the mappings from its own half, so no mapping is updated again while its
-- previous update is still settling.
dofile(os.getenv("ESM_WRK_DIR") .. "/common.lua")
local uuids, i
function init(args) uuids = load_uuids(); i = math.floor((id - 1) * #uuids / 2) end
function request()
  i = i % #uuids + 1
  return wrk.format("PUT", path .. "/" .. uuids[i], headers, '{"BatchSize":' .. (i % 9 + 1) .. '}')
end
