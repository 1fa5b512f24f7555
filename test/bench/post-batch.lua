-- wrk script: POST a batch of 50 realistic events to the batch route.
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain"
local event = [[{"action":"view","object":"vehicle","vendor":"Website","product":"VDP","instance_id":"visit-7f3a9c21","label":"2021 Honda Accord","pageUrl":"https://dealer.example/used/2021-honda-accord","deviceId":"0b7e4c1a-8f2d-4e5b-9a3c-1d6f8e2b4a70"}]]
local events = {}
for i = 1, 50 do events[i] = event end
wrk.body = "[" .. table.concat(events, ",") .. "]"

-- The JSON summary line (report.lua, beside this file).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
