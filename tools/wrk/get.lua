dofile(os.getenv("ESM_WRK_DIR") .. "/common.lua")
local uuids
function init(args) uuids = load_uuids(); math.randomseed(os.time() * 7 + id) end
function request() return wrk.format("GET", path .. "/" .. uuids[math.random(1, #uuids)], headers) end
