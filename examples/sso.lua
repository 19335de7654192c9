-- wrk script for the SSO cycle: each connection alternates `/login?service=` (which answers
-- a 302 with a fresh ticket) and `/serviceValidate` of the ticket it got, parsing Location
-- and the body the same way against unicas and against the ceiling (examples/ceiling.rs).
--   TGC=<CASTGC value> wrk -t2 -c64 -d10s -s examples/sso.lua http://127.0.0.1:18080
-- Reports tickets validated per second and how many validations failed.

local service = "https%3A%2F%2Fbench.test%2Fapp"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  tickets = {}          -- tickets received, waiting for their validation
  validated = 0
  failed = 0
  local tgc = os.getenv("TGC") or ""
  headers = { ["Cookie"] = "CASTGC=" .. tgc }
end

function request()
  local ticket = table.remove(tickets)
  if ticket then
    return wrk.format("GET", "/cas/serviceValidate?service=" .. service .. "&ticket=" .. ticket, headers)
  end
  return wrk.format("GET", "/cas/login?service=" .. service, headers)
end

function response(status, hdrs, body)
  local location = hdrs["Location"] or hdrs["location"]
  if status == 302 and location then
    local ticket = string.match(location, "ticket=([%w%-]+)")
    if ticket then table.insert(tickets, ticket) end
  elseif string.find(body, "authenticationSuccess", 1, true) then
    validated = validated + 1
  else
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local v, f = 0, 0
  for _, t in ipairs(threads) do
    v = v + t:get("validated")
    f = f + t:get("failed")
  end
  local seconds = summary.duration / 1e6
  io.write(string.format("wrk sso: %.0f requests/s, %.0f tickets validated/s, %d failed\n",
    summary.requests / seconds, v / seconds, f))
end
