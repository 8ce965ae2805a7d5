-- wrk script: POSTs one GraphQL query per request, with `$ID` in the query replaced by an id
-- drawn from the ids file, and counts responses that carry GraphQL errors (not only non-200s).
-- Environment: GQL_QUERY_FILE (the query text), GQL_IDS_FILE (one id per line), GQL_TOKEN,
-- GQL_DELAY_MS (pause before each request on a connection; 0 = closed loop).

local query_text, ids, token, delay_ms
local threads = {}

local function read_file(path)
  local f = assert(io.open(path, "r"), "cannot open " .. path)
  local s = f:read("*a")
  f:close()
  return s
end

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  query_text = read_file(os.getenv("GQL_QUERY_FILE"))
  ids = {}
  for line in io.lines(os.getenv("GQL_IDS_FILE")) do
    if #line > 0 then table.insert(ids, line) end
  end
  token = os.getenv("GQL_TOKEN")
  delay_ms = tonumber(os.getenv("GQL_DELAY_MS") or "0")
  gql_errors = 0
  bad_status = 0
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

local function escape(s)
  return (s:gsub('\\', '\\\\'):gsub('"', '\\"'):gsub('\n', '\\n'))
end

function request()
  local id = ids[math.random(#ids)]
  local q = query_text:gsub("%$ID", id)
  local body = '{"query":"' .. escape(q) .. '"}'
  return wrk.format("POST", "/graphql", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end

function delay()
  if delay_ms > 0 then
    return math.random(math.floor(delay_ms / 2), math.floor(delay_ms * 3 / 2))
  end
  return 0
end

function response(status, headers, body)
  if status ~= 200 then
    bad_status = bad_status + 1
  elseif body:find('"errors"', 1, true) then
    gql_errors = gql_errors + 1
  end
end

function done(summary, latency, requests)
  local errs, bad = 0, 0
  for _, t in ipairs(threads) do
    errs = errs + t:get("gql_errors")
    bad = bad + t:get("bad_status")
  end
  io.write(string.format(
    "RESULT requests=%d duration_s=%.1f rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f gql_errors=%d non_200=%d socket_errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, errs, bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
