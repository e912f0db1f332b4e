-- wrk script for bench/sign_load.py: every request signs with a new e-mail address.
--
-- Run with as many threads as connections (-t C -c C): each wrk thread then has one
-- connection, so request() and response() alternate and the latency of each signature
-- is measured here, excluding any other request.
-- Arguments (after --): path, csrftoken cookie, csrfmiddlewaretoken, run tag, seconds.
-- After `seconds` a thread stops: delay() makes it wait past the end of wrk's own
-- duration (`seconds` plus a grace period), so no request is in flight when wrk
-- closes its connections and every committed signature has been answered.
-- done() writes JSON to the file named by HAMSEDA_BENCH_OUT.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } hamseda_timespec;
int clock_gettime(int clk_id, hamseda_timespec *tp);
]])
local ts = ffi.new("hamseda_timespec")
local CLOCK_MONOTONIC = 1

local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  local path, cookie, token, tag, seconds = args[1], args[2], args[3], args[4], tonumber(args[5])
  sign_path = path
  headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. cookie,
  }
  -- Like a real crowd: each signer from their own network address (the server trusts
  -- X-Forwarded-For from loopback in the benchmark), three in five at a big provider,
  -- the others spread over many small domains.
  body_format = "first_name=Bench&last_name=Signer&email=" .. tag .. "-" .. tid
    .. "-%d%%40%s&country=SE&postcode=11122&reason=Load+test"
    .. "&csrfmiddlewaretoken=" .. token
  started_at = now()
  deadline = started_at + seconds
  counter = 0        -- sign requests written
  answered = 0       -- sign responses read
  in_window = 0      -- 2xx sign responses read before the deadline
  statuses = {}      -- status code (as a string) -> count
  samples = {}       -- latency of each answered sign request, microseconds
  signing = false
  sent_at = 0
end

function delay()
  if now() >= deadline then
    return 3600 * 1000 -- milliseconds: longer than any run; wrk ends first.
  end
  return 0
end

local providers = { "gmail.com", "yahoo.com", "outlook.com" }

local function domain_of(n)
  if n % 5 < 3 then
    return providers[n % 3 + 1]
  end
  return string.format("org%d-%d.example.net", tid, n)
end

function request()
  local t = now()
  counter = counter + 1
  signing = true
  sent_at = t
  headers["X-Forwarded-For"] = string.format(
    "10.%d.%d.%d", tid % 250, math.floor(counter / 250) % 250, counter % 250
  )
  return wrk.format(
    "POST", sign_path, headers, string.format(body_format, counter, domain_of(counter))
  )
end

function response(status, headers, body)
  if not signing then
    return
  end
  signing = false
  local t = now()
  answered = answered + 1
  samples[answered] = math.floor((t - sent_at) * 1e6 + 0.5)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if status >= 200 and status < 300 and t <= deadline then
    in_window = in_window + 1
  end
end

local function json_counts(tbl)
  local parts = {}
  for key, value in pairs(tbl) do
    table.insert(parts, string.format('"%s": %d', key, value))
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

function done(summary, latency, requests)
  local sent, got, window = 0, 0, 0
  local all_statuses = {}
  local out = io.open(os.getenv("HAMSEDA_BENCH_OUT"), "w")
  out:write('{"threads": [')
  for i, thread in ipairs(threads) do
    sent = sent + thread:get("counter")
    got = got + thread:get("answered")
    window = window + thread:get("in_window")
    for key, value in pairs(thread:get("statuses")) do
      all_statuses[key] = (all_statuses[key] or 0) + value
    end
    local s = thread:get("samples")
    local list = {}
    for j = 1, #s do
      list[j] = tostring(s[j])
    end
    if i > 1 then
      out:write(", ")
    end
    out:write("[" .. table.concat(list, ",") .. "]")
  end
  out:write("], ")
  out:write(string.format(
    '"sent": %d, "answered": %d, "in_window_2xx": %d, "statuses": %s, '
      .. '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, '
      .. '"wrk_requests": %d, "wrk_duration_us": %d}\n',
    sent, got, window, json_counts(all_statuses),
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    summary.requests, summary.duration
  ))
  out:close()
end
