-- Sends pre-built requests, one per line of a file: METHOD<TAB>PATH<TAB>TOKEN<TAB>BODY.
-- Each wrk thread takes every n-th line from its own offset, so no request is sent twice (a
-- submission or a redemption succeeds once). Running out of lines answers with a 404 on
-- purpose, and the driver fails the run on any answer that is not 2xx.
-- "cycle" (for reads) goes round the file again.
-- Usage: wrk -t2 -c16 -d10s --latency -s anti_fraud.lua URL -- FILE THREADS [cycle]

local threads = 0
local count, requests, position, cycle = 1, {}, 0, false
local reported = false

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  count = tonumber(args[2]) or 1
  cycle = args[3] == "cycle"
  local n = 0
  for line in io.lines(args[1]) do
    if n % count == id then
      local method, path, token, body = line:match("^(%u+)\t([^\t]+)\t([^\t]*)\t(.*)$")
      local headers = {["Content-Type"] = "application/json"}
      if token ~= "" then headers["Authorization"] = "Bearer " .. token end
      if body == "" then body = nil end
      requests[#requests + 1] = wrk.format(method, path, headers, body)
    end
    n = n + 1
  end
end

function request()
  position = position + 1
  if position > #requests and cycle then
    position = 1
  elseif position > #requests then
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
