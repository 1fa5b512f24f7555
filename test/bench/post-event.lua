-- wrk script: POST one realistic event (about 330 bytes) to the collect route.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"action":"submit","object":"form","vendor":"ChatVendor","product":"LiveChat Pro","instance_id":"chat-7f3a9c21-4b8e-4d2a-9e61-0c5d8b2f1a77","label":"Lead form submitted from VDP chat","score":0.87,"vehicleVin":"1HGCM82633A004352","pageUrl":"https://dealer.example/used/2021-honda-accord","leadType":"finance","device":{"type":"desktop","os":"linux"}}]]

-- The JSON summary line (report.lua, beside this file).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
