-- wrk script for bench/remote.sh and bench/lm-remote.sh (through bench/wrk-load.sh): POSTs the request bodies of a
-- file (one JSON body per line) in turn, each wrk connection starting at its own offset. No response callback: one
-- makes wrk hand every body to Lua, which halved its rate on the language model's 20 kB answers.
local bodies = {}
local counter = 0

function init(args)
  for line in io.lines(args[1]) do
    bodies[#bodies + 1] = line
  end
  counter = math.random(#bodies)
end

function request()
  counter = counter % #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[counter])
end

function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format("WRK requests=%d seconds=%.3f errors=%d\n", summary.requests,
    summary.duration / 1e6, errors))
end
