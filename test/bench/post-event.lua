-- wrk script: POST one realistic event (330 bytes, the body of ../shared/perf/post.lua) to the collect route.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"action":"view","object":"vehicle","vendor":"Vendor A","product":"Inventory Widget","instance_id":"3f2b8c1e-9d4a-4b7e-8f61-2a9c0d5e7b13","label":"2024 Ford F-150 XLT details","score":3,"vin":"1FTFW1E50PFA00000","page":"https://dealer.example/inventory/new/ford/f-150?utm_source=mail"}]]

-- The JSON summary line (report.lua, beside this file).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
