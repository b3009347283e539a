-- wrk: POST /api/v2/alerts to Prometheus Alertmanager, each request a new alert (its own labels).
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

local counter = 0

function request()
  counter = counter + 1
  local body = string.format(
    '[{"labels":{"alertname":"bench_reading","source":"bench-http","zone":"bench",' ..
    '"severity":"minor","instance":"http-%d-%d"},"annotations":{"value":"%d"}}]',
    id, counter, counter % 1000)
  return wrk.format("POST", "/api/v2/alerts", {["Content-Type"] = "application/json"}, body)
end
