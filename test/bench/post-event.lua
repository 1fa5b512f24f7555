-- wrk script: POST one realistic event (about 330 bytes) to the collect route.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"action":"submit","object":"form","vendor":"ChatVendor","product":"LiveChat Pro","instance_id":"chat-7f3a9c21-4b8e-4d2a-9e61-0c5d8b2f1a77","label":"Lead form submitted from VDP chat","score":0.87,"vehicleVin":"1HGCM82633A004352","pageUrl":"https://dealer.example/used/2021-honda-accord","leadType":"finance","device":{"type":"desktop","os":"linux"}}]]

-- One JSON line that the bench script parses.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"p50":%d,"p99":%d,"p999":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    e.connect, e.read, e.write, e.status, e.timeout))
end
