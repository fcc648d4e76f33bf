-- wrk script shared by every HTTP phase of bench/throughput.py; configured by environment:
--   BENCH_METHOD, BENCH_PATH, BENCH_TOKEN (bearer), BENCH_BODY_FILE (JSON body to POST),
--   BENCH_DELAY_MS (pause per connection between requests: the half-rate runs),
--   BENCH_MAX_REQUESTS (per wrk thread; the thread stops after that many answers),
--   BENCH_IDS_FILE (append each 202's deliveryId, one per line),
--   BENCH_SPREAD_KM: the body's __PICKUP__, __DROP_LAT__ and __DROP_LON__ become random points
--   within that many km of BENCH_CENTER ("lat,lon"), so requests spread over the fleet's area.
-- done() prints one line "WRK_JSON {...}": totals, latency percentiles (microseconds), statuses
-- and answers per wall-clock second, which the harness parses.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local function read_file(path)
  local file = assert(io.open(path, "r"))
  local text = file:read("*a")
  file:close()
  return text
end

function init(args)
  local headers = { ["Accept"] = "application/json" }
  local token = os.getenv("BENCH_TOKEN")
  if token and token ~= "" then
    headers["Authorization"] = "Bearer " .. token
  end
  local body = nil
  local body_file = os.getenv("BENCH_BODY_FILE")
  if body_file and body_file ~= "" then
    body = read_file(body_file)
    headers["Content-Type"] = "application/json"
  end
  method, path, fixed_headers, template = os.getenv("BENCH_METHOD") or "GET", os.getenv("BENCH_PATH"), headers, body
  prepared = wrk.format(method, path, headers, body)
  local spread_km = tonumber(os.getenv("BENCH_SPREAD_KM") or "0")
  if spread_km > 0 and template then
    local lat, lon = string.match(os.getenv("BENCH_CENTER"), "([^,]+),([^,]+)")
    center_lat, center_lon = tonumber(lat), tonumber(lon)
    spread_lat = spread_km / 111.2
    spread_lon = spread_lat / math.cos(math.rad(center_lat))
    math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
  end
  pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
  limit = tonumber(os.getenv("BENCH_MAX_REQUESTS") or "0")
  local ids_path = os.getenv("BENCH_IDS_FILE")
  if ids_path and ids_path ~= "" then
    ids = assert(io.open(ids_path, "a"))
  end
  answered = 0
  seconds = {}
  statuses = {}
end

local function around(center, spread)
  return center + (math.random() * 2 - 1) * spread
end

function request()
  if not spread_lat then
    return prepared
  end
  local lat, lon = around(center_lat, spread_lat), around(center_lon, spread_lon)
  local body = template
    :gsub("__PICKUP__", string.format("%.5f,%.5f", lat, lon))
    -- the quotes go too: a coordinate is a JSON number (a string one is refused since issue 16)
    :gsub('"__DROP_LAT__"', string.format("%.5f", around(lat, spread_lat / 10)))
    :gsub('"__DROP_LON__"', string.format("%.5f", around(lon, spread_lon / 10)))
  return wrk.format(method, path, fixed_headers, body)
end

function delay()
  return pause
end

function response(status, headers, body)
  answered = answered + 1
  local now = os.time()
  seconds[now] = (seconds[now] or 0) + 1
  statuses[status] = (statuses[status] or 0) + 1
  if ids and status == 202 then
    local id = string.match(body, '"deliveryId"%s*:%s*"([^"]+)"')
    if id then
      ids:write(id, "\n")
      ids:flush()
    end
  end
  if limit > 0 and answered >= limit then
    wrk.thread:stop()
  end
end

local function merge(into, from)
  for key, count in pairs(from or {}) do
    into[tostring(key)] = (into[tostring(key)] or 0) + count
  end
end

local function encode(map)
  local parts = {}
  for key, count in pairs(map) do
    table.insert(parts, string.format('"%s":%d', key, count))
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local per_second, by_status = {}, {}
  for _, thread in ipairs(threads) do
    merge(per_second, thread:get("seconds"))
    merge(by_status, thread:get("statuses"))
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,'
      .. '"status":%d,"timeout":%d},"latency_us":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,'
      .. '"max":%d},"statuses":%s,"per_second":%s}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, encode(by_status), encode(per_second)))
end
