-- wrk script: the event of post-event.lua at a set rate. Each connection waits
-- TRACKD_DELAY_MS between its requests (wrk's delay() hook), so the load is about
-- connections x 1000 / (delay + latency) requests/s: ingest.ts sets the delay for a target.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "post-event.lua")
local pause = tonumber(os.getenv("TRACKD_DELAY_MS") or "0")
function delay()
  return pause
end
