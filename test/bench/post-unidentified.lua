-- wrk script: the event of post-identified.lua with the same fields under names that are not identifiers: the same bytes, no link index entries but the instance's.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"action":"submit","object":"form","vendor":"ChatVendor","product":"LiveChat Pro","instance_id":"chat-7f3a9c21-4b8e-4d2a-9e61-0c5d8b2f1a77","label":"Lead form submitted from VDP chat","score":0.87,"vehicleVin":"1HGCM82633A004352","pageUrl":"https://dealer.example/used/2021-honda-accord","leadType":"finance","device":{"type":"desktop","os":"linux"},"xDeviceId":"3b9f2c1e-8a4d-4f6b-9c2e-7d1a5e8f0b3c","xVisitId":"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d","xUserId":"user-58213","xEmailSha256":"b4c9a289323b21a01c3e940f150eb9b8c542587f1abfd8f0e1cc1ffc5e475514","xPhoneSha256":"5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"}]]

-- The JSON summary line (report.lua, beside this file).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
