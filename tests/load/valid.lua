-- Valid requests only, round robin over read routes that answer 200:
-- the liveness and readiness probes, the latest signed checkpoint (read
-- from the journal's store) and the JWKS. wrk's own summary counts what
-- did not answer 2xx (and the transport errors): all of it is an error.
local paths = { "/healthz", "/readyz", "/api/v1/journal/checkpoint",
    "/jwks" }
local i = 0

request = function()
	i = i % #paths + 1
	return wrk.format("GET", paths[i])
end
