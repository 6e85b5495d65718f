-- POST /api/ask with bodies rotating through a file of unique JSON bodies (one per line).
--   QA_WRK_BODIES=bodies.jsonl QA_WRK_THREADS=2 wrk -t2 -c4 -d10s -s wrk_post.lua http://127.0.0.1:PORT
-- Thread i sends bodies i, i+T, i+2T, ... so no two requests of a run repeat a question
-- (until the file is exhausted; run_all.py makes it longer than any run can consume).
-- done() prints one JSON line with the counts and latency percentiles.

local bodies = {}
for line in io.lines(os.getenv("QA_WRK_BODIES")) do
  bodies[#bodies + 1] = line
end
local step = tonumber(os.getenv("QA_WRK_THREADS") or "1")
local next_id = 0

function setup(thread)
  thread:set("first", next_id)
  next_id = next_id + 1
end

function init(args)
  position = first
end

local headers = { ["Content-Type"] = "application/json" }

function request()
  local body = bodies[(position % #bodies) + 1]
  position = position + step
  return wrk.format("POST", "/api/ask", headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "errors": {"connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d}, "latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}, ' ..
    '"bodies": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean, #bodies))
end
