dofile(os.getenv("ESM_WRK_DIR") .. "/common.lua")
function request() return wrk.format("GET", path .. "?MaxItems=100", headers) end
