-- Invalid requests, round robin: bad JSON, unknown routes, bodies over
-- the limit, wrong methods, state changes without a session. None may
-- answer 2xx or 5xx; done() prints the counts for the soak driver.
local big = string.rep("a", 200000)
local reqs = {
	{ "POST", "/api/v1/session/challenge", '{"name":' },
	{ "GET", "/api/v1/no-such-route", nil },
	{ "POST", "/api/v1/session/challenge",
	    '{"name":"' .. big .. '"}' },
	{ "POST", "/healthz", "{}" },
	{ "DELETE", "/api/v1/journal/checkpoint", nil },
	{ "POST", "/api/v1/requests", '{"kind":"break-glass"}' },
	{ "POST", "/api/v1/requests/1/votes", '{"decision":"approve"}' },
	{ "DELETE", "/api/v1/session", nil },
	{ "POST", "/api/v1/grants/x/revoke", nil },
}
local i = 0
local threads = {}
server_errors = 0
accepted = 0

setup = function(thread)
	table.insert(threads, thread)
end

request = function()
	i = i % #reqs + 1
	local r = reqs[i]
	local headers = {}
	if r[3] ~= nil then
		headers["Content-Type"] = "application/json"
	end
	return wrk.format(r[1], r[2], headers, r[3])
end

response = function(status, headers, body)
	if status >= 500 then
		server_errors = server_errors + 1
	elseif status < 300 then
		accepted = accepted + 1
	end
end

done = function(summary, latency, requests)
	local s, a = 0, 0
	for _, t in ipairs(threads) do
		s = s + t:get("server_errors")
		a = a + t:get("accepted")
	end
	io.write(string.format("invalid: server_errors %d accepted %d\n",
	    s, a))
end
