-- The anonymous flood of BENCHMARKS.md: wrk -t2 -c32 -d30s -s examples/flood.lua http://127.0.0.1:PORT
-- Each request from a new client address (the trusted proxy's X-Forwarded-For), alternating
-- captcha images and QR-code requests.
local n = 0
request = function()
  n = n + 1
  local ip = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
  local path = (n % 2 == 0) and "/cas/captcha.html" or "/cas/qrCode/getToken"
  return wrk.format("GET", path, { ["X-Forwarded-For"] = ip })
end
