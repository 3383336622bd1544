-- Patrol scans for wrk: one pre-built request a line, METHOD<TAB>PATH<TAB>TOKEN<TAB>BODY (the
-- same format as the other bench files). A code is valid once per patrol, so no line is sent
-- twice: each wrk thread takes every n-th line from its own offset, and running out of lines
-- answers 404, which fails the run like any other answer that is not 2xx.
-- Usage: wrk -t2 -c16 -d10s --latency -s patrol_scan.lua URL -- FILE THREADS

local threads = 0
local count, requests, position = 1, {}, 0
local reported = false

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  count = tonumber(args[2]) or 1
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
  if position > #requests then
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
