-- wrk script: signed delivery webhooks with unique event ids (scripts/bench-service).
--   wrk -s webhooks.lua URL -- TARGETS.lua SECRET PROVIDER [PRESIGNED]
-- TARGETS.lua defines `targets = {{customer, message}, ...}`. Each thread numbers its own events,
-- so every request carries a new event id; 5% are hard bounces, the rest delivered/opened/clicked.
-- A provider signs on its own machines, so the signing is kept out of the measured seconds: each
-- thread signs PRESIGNED requests (default 60,000) in `init`, before wrk starts its clock, and
-- signs any further ones as they are sent.
local bit = require("bit")
local band, bor, bxor, bnot, rshift, lshift, ror, tobit = bit.band, bit.bor, bit.bxor, bit.bnot, bit.rshift, bit.lshift, bit.ror, bit.tobit

-- SHA-256 (FIPS 180-4) and HMAC (RFC 2104) in LuaJIT's 32-bit bit operations.
local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}
for i = 1, 64 do K[i] = tobit(K[i]) end

local function sha256(msg)
  local len = #msg
  local pad = (55 - len) % 64
  local bits = len * 8
  msg = msg .. "\128" .. string.rep("\0", pad) .. "\0\0\0\0"
    .. string.char(band(rshift(bits, 24), 255), band(rshift(bits, 16), 255), band(rshift(bits, 8), 255), band(bits, 255))
  local H = { tobit(0x6a09e667), tobit(0xbb67ae85), tobit(0x3c6ef372), tobit(0xa54ff53a),
              tobit(0x510e527f), tobit(0x9b05688c), tobit(0x1f83d9ab), tobit(0x5be0cd19) }
  local w = {}
  for i = 1, #msg, 64 do
    for j = 1, 16 do
      local a, b, c, d = string.byte(msg, i + (j - 1) * 4, i + (j - 1) * 4 + 3)
      w[j] = bor(lshift(a, 24), lshift(b, 16), lshift(c, 8), d)
    end
    for j = 17, 64 do
      local v, u = w[j - 15], w[j - 2]
      local s0 = bxor(ror(v, 7), ror(v, 18), rshift(v, 3))
      local s1 = bxor(ror(u, 17), ror(u, 19), rshift(u, 10))
      w[j] = tobit(w[j - 16] + s0 + w[j - 7] + s1)
    end
    local a, b, c, d, e, f, g, h = H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8]
    for j = 1, 64 do
      local S1 = bxor(ror(e, 6), ror(e, 11), ror(e, 25))
      local ch = bxor(band(e, f), band(bnot(e), g))
      local t1 = tobit(h + S1 + ch + K[j] + w[j])
      local S0 = bxor(ror(a, 2), ror(a, 13), ror(a, 22))
      local maj = bxor(band(a, b), band(a, c), band(b, c))
      h, g, f, e, d, c, b, a = g, f, e, tobit(d + t1), c, b, a, tobit(t1 + S0 + maj)
    end
    H[1], H[2], H[3], H[4] = tobit(H[1] + a), tobit(H[2] + b), tobit(H[3] + c), tobit(H[4] + d)
    H[5], H[6], H[7], H[8] = tobit(H[5] + e), tobit(H[6] + f), tobit(H[7] + g), tobit(H[8] + h)
  end
  local out = {}
  for i = 1, 8 do
    local v = H[i]
    out[i] = string.char(band(rshift(v, 24), 255), band(rshift(v, 16), 255), band(rshift(v, 8), 255), band(v, 255))
  end
  return table.concat(out)
end

local function tohex(s)
  return (s:gsub(".", function(c) return string.format("%02x", string.byte(c)) end))
end

local ipad, opad
local function hmac(message)
  return tohex(sha256(opad .. sha256(ipad .. message)))
end

local function keypads(key)
  if #key > 64 then key = sha256(key) end
  key = key .. string.rep("\0", 64 - #key)
  ipad = key:gsub(".", function(c) return string.char(bxor(string.byte(c), 0x36)) end)
  opad = key:gsub(".", function(c) return string.char(bxor(string.byte(c), 0x5c)) end)
end

-- wrk hooks
local counter = 1
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local n, provider, path, types = 0, nil, nil, nil
local presigned = {}

local function signed(k)
  local t = targets[(k * 7919 + tid * 104729) % #targets + 1]
  local now = os.time()
  local body = string.format('{"id":"w%d-%d","type":"%s","message_id":"%s","customer_id":"%s","occurred_at":%d}',
                             tid, k, types[k % 100 + 1], t[2], t[1], now)
  local ts = tostring(now)
  return wrk.format("POST", path, {["Content-Type"] = "application/json", ["Pom-Signature"] = "t=" .. ts .. ",v1=" .. hmac(ts .. "." .. body)}, body)
end

function init(args)
  dofile(args[1])
  keypads(args[2])
  provider = args[3]
  path = "/v1/webhooks/" .. provider
  types = {}
  for i = 1, 100 do
    if i <= 5 then types[i] = "bounced_hard" elseif i <= 60 then types[i] = "delivered" elseif i <= 85 then types[i] = "opened" else types[i] = "clicked" end
  end
  -- Check the HMAC against the RFC 4231 test case 2 once per thread.
  local saved_i, saved_o = ipad, opad
  keypads("Jefe")
  assert(hmac("what do ya want for nothing?") == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", "HMAC-SHA256 self-test failed")
  ipad, opad = saved_i, saved_o
  for k = 1, tonumber(args[4] or "60000") do presigned[k] = signed(k) end
end

function request()
  n = n + 1
  return presigned[n] or signed(n)
end

function done(summary, latency, requests)
  io.write(string.format('{"requests": %d, "duration_s": %.3f, "non2xx": %d, "socket_errors": %d, "timeouts": %d, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write,
    summary.errors.timeout, latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
