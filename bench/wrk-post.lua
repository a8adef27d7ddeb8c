-- wrk script for bench/remote.sh and bench/lm-remote.sh (through bench/wrk-load.sh): POSTs the request bodies of a
-- file (one JSON body per line) in turn, each wrk connection starting at its own offset, and adds up the completion
-- tokens the answers' usage reports when its second argument is "tokens", so that a generating teacher's rate is in
-- tokens, as the pipeline's is.
local bodies = {}
local counter = 0
tokens = 0 -- global: done() reads each thread's through thread:get
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    bodies[#bodies + 1] = line
  end
  counter = math.random(#bodies)
  -- Only when asked: a script with a response function makes wrk read every body, a slower path.
  if args[2] == "tokens" then
    response = count_tokens
  end
end

function request()
  counter = counter % #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[counter])
end

function count_tokens(status, headers, body)
  local n = string.match(body, '"completion_tokens":(%d+)')
  if status == 200 and n then
    tokens = tokens + tonumber(n)
  end
end

function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("tokens")
  end
  io.write(string.format("WRK requests=%d seconds=%.3f errors=%d tokens=%d\n", summary.requests,
    summary.duration / 1e6, errors, total))
end
