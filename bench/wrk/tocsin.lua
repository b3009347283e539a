-- wrk: POST /api/v1/incidents, each request a new incident (its own dedup_key).
-- TOCSIN_TOKEN: an API token with the ingest scope.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local token = os.getenv("TOCSIN_TOKEN") or ""
local counter = 0

function request()
  counter = counter + 1
  local body = string.format(
    '{"source":"bench-http","type":"bench.reading","severity":"minor",' ..
    '"location":{"zone":"bench"},"attributes":{"value":%d},"dedup_key":"http-%d-%d"}',
    counter % 1000, id, counter)
  return wrk.format("POST", "/api/v1/incidents",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
