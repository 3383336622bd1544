-- Cycles through pre-built requests, one per line: METHOD<TAB>PATH<TAB>TOKEN<TAB>BODY.
-- Each wrk thread takes every n-th line from its own offset, so no request is sent twice
-- (a check-in or a sign-up succeeds once). Running out of lines, or any answer that is not
-- 2xx, fails the run: the driver reads wrk's "Non-2xx or 3xx responses" line.
-- Reads (the leaderboard) may pass "cycle" to go round the file again.
-- Usage: wrk -t2 -c16 -d10s --latency -s requests.lua URL -- FILE THREADS [cycle]

local threads = 0
-- "id" is a global: setup() sets it in each thread's own Lua state.
local count, requests, position, cycle = 1, {}, 0, false
local reported = false

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  count = tonumber(args[2]) or 1
  cycle = args[3] == "cycle"
  local file = assert(io.open(args[1], "r"))
  local n = 0
  for line in file:lines() do
    if n % count == id then
      local method, path, token, body = line:match("^(%u+)\t([^\t]+)\t([^\t]*)\t(.*)$")
      local headers = {["Content-Type"] = "application/json"}
      if token ~= "" then headers["Authorization"] = "Bearer " .. token end
      if body == "" then body = nil end
      requests[#requests + 1] = wrk.format(method, path, headers, body)
    end
    n = n + 1
  end
  file:close()
end

function request()
  position = position + 1
  if position > #requests and cycle then
    position = 1
  elseif position > #requests then
    -- Out of distinct requests: answer with a 404 so the run fails instead of repeating.
    return wrk.format("GET", "/bench-ran-out-of-requests")
  end
  return requests[position]
end

function response(status, headers, body)
  if status >= 300 and not reported then
    reported = true
    io.stderr:write(string.format("thread %d: HTTP %d %s\n", id, status, body or ""))
  end
end
