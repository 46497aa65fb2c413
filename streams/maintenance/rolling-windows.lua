-- rolling-windows: incremental per-arm channel windows for FactoryGuard (docs/factoryguard-features.md).
-- One call per poll batch: applies the batch's readings in order and returns, for every arm key, the
-- aggregates the features are computed from. Raw readings are never kept: per (arm, channel) there
-- are buckets (count, shifted sum, shifted sum of squares) for the ring (the longest window), running
-- window sums per window, and truncated exponential sums for the EMAs, all updated incrementally.
-- The feature spec (a plant profile's, streams/maintenance/features.ts) comes in through ARGV.
--
-- KEYS[k]   hash of arm k
-- ARGV      header: W_ms, LATENESS_buckets, TTL_ms, RING_buckets, nW, window buckets x nW (ascending, the
--           last = RING), nE, EMA taus in ms x nE, nC, channel codes x nC (the reply's channel order);
--           then per reading 5 values: k, channel code, value, event_time_ms, offset
-- Per reading result: 1 accepted, 2 rejected as too late, 3 already applied (offset <= the arm's last offset:
-- a redelivered batch), so state changes exactly once per reading.
-- Hash fields: H head bucket, off last applied offset, r:c reference value (first accepted value; sums are
-- of value - ref to limit cancellation), b:c:<bucket> "n s1 s2", w:c:<Lb> "n s1 s2", e:c:<i> "num den"
-- (num = sum of weight * (bucket mean - ref)), c:c buckets with data in the ring; c is the channel's code.
-- spec: the W, RING, windows and taus the state was built with. An arm whose state was built with another
-- spec starts afresh (its sums would mean something else) and is listed in the reply; state without the
-- field predates it and was built with the only spec there was, the simulator's (codes v/t/p), so it is
-- adopted: the simulator plant's live windows survive the deploy that brought the field.
local W = tonumber(ARGV[1])
local LATENESS = tonumber(ARGV[2])
local TTL = tonumber(ARGV[3])
local RING = tonumber(ARGV[4])
local i = 5
local function list(convert)
  local n = tonumber(ARGV[i])
  local out = {}
  for j = 1, n do out[j] = convert(ARGV[i + j]) end
  i = i + n + 1
  return out
end
local WINDOWS = list(tonumber)
local TAUS_MS = list(tonumber)
local CHANNELS = list(tostring)
local SPEC = W .. '|' .. RING .. '|' .. table.concat(WINDOWS, ',') .. '|' .. table.concat(TAUS_MS, ',')

local function fmt(x) return string.format('%.17g', x) end
local function triple(s)
  if not s then return 0, 0, 0 end
  local a, b, c = string.match(s, '(%S+) (%S+) (%S+)')
  return tonumber(a), tonumber(b), tonumber(c)
end
local function pair(s)
  if not s then return 0, 0 end
  local a, b = string.match(s, '(%S+) (%S+)')
  return tonumber(a), tonumber(b)
end

-- Moves the head of arm `key` from h0 to h1 > h0: buckets leave the windows and the ring.
local function advance(key, h0, h1)
  local k = h1 - h0
  for _, s in ipairs(CHANNELS) do
    if redis.call('HEXISTS', key, 'r:' .. s) == 1 then
      for _, lb in ipairs(WINDOWS) do
        local f = 'w:' .. s .. ':' .. lb
        local n, s1, s2 = triple(redis.call('HGET', key, f))
        local last = math.min(h0, h1 - lb)
        for bb = h0 - lb + 1, last do
          local bn, b1, b2 = triple(redis.call('HGET', key, 'b:' .. s .. ':' .. bb))
          if bn > 0 then n = n - bn; s1 = s1 - b1; s2 = s2 - b2 end
        end
        if n == 0 then s1 = 0; s2 = 0 end
        redis.call('HSET', key, f, n .. ' ' .. fmt(s1) .. ' ' .. fmt(s2))
      end
      local leaving = {}
      local count = tonumber(redis.call('HGET', key, 'c:' .. s) or '0')
      for bb = h0 - RING + 1, math.min(h0, h1 - RING) do
        local bf = 'b:' .. s .. ':' .. bb
        local bn, b1 = triple(redis.call('HGET', key, bf))
        if bn > 0 then
          leaving[#leaving + 1] = {bb, b1 / bn}
          count = count - 1
          redis.call('HDEL', key, bf)
        end
      end
      redis.call('HSET', key, 'c:' .. s, count)
      for i, tau in ipairs(TAUS_MS) do
        local f = 'e:' .. s .. ':' .. i
        local num, den = pair(redis.call('HGET', key, f))
        if count == 0 then
          num = 0; den = 0
        else
          local decay = math.exp(-k * W / tau)
          num = num * decay; den = den * decay
          for _, l in ipairs(leaving) do
            local w = math.exp(-(h1 - l[1]) * W / tau)
            num = num - w * l[2]; den = den - w
          end
        end
        redis.call('HSET', key, f, fmt(num) .. ' ' .. fmt(den))
      end
    end
  end
end

local function apply(key, s, x, t, off)
  local stored_off = tonumber(redis.call('HGET', key, 'off') or '-1')
  if off <= stored_off then return 3 end
  redis.call('HSET', key, 'off', off)
  local b = math.floor(t / W)
  local h = tonumber(redis.call('HGET', key, 'H') or 'nil')
  if h and b < h - LATENESS then return 2 end
  if not h then
    h = b
    redis.call('HSET', key, 'H', h)
  elseif b > h then
    advance(key, h, b)
    h = b
    redis.call('HSET', key, 'H', h)
  end
  local ref = tonumber(redis.call('HGET', key, 'r:' .. s) or 'nil')
  if not ref then
    ref = x
    redis.call('HSET', key, 'r:' .. s, fmt(x))
  end
  local d = x - ref
  local bf = 'b:' .. s .. ':' .. b
  local bn, b1, b2 = triple(redis.call('HGET', key, bf))
  local old_mean = bn > 0 and b1 / bn or nil
  bn = bn + 1; b1 = b1 + d; b2 = b2 + d * d
  redis.call('HSET', key, bf, bn .. ' ' .. fmt(b1) .. ' ' .. fmt(b2))
  if not old_mean then redis.call('HINCRBY', key, 'c:' .. s, 1) end
  local new_mean = b1 / bn
  for _, lb in ipairs(WINDOWS) do
    if b > h - lb then
      local f = 'w:' .. s .. ':' .. lb
      local n, s1, s2 = triple(redis.call('HGET', key, f))
      redis.call('HSET', key, f, (n + 1) .. ' ' .. fmt(s1 + d) .. ' ' .. fmt(s2 + d * d))
    end
  end
  for i, tau in ipairs(TAUS_MS) do
    local f = 'e:' .. s .. ':' .. i
    local num, den = pair(redis.call('HGET', key, f))
    local w = math.exp(-(h - b) * W / tau)
    if old_mean then
      num = num + w * (new_mean - old_mean)
    else
      num = num + w * new_mean; den = den + w
    end
    redis.call('HSET', key, f, fmt(num) .. ' ' .. fmt(den))
  end
  return 1
end

-- A code outside the spec would never leave the ring (advance walks the spec's channels only). Checked
-- before anything is written: a script's error does not undo its earlier writes.
local known = {}
for _, c in ipairs(CHANNELS) do known[c] = true end
for j = i + 1, #ARGV, 5 do
  if not known[ARGV[j]] then return redis.error_reply('rolling-windows: channel code ' .. ARGV[j] .. ' is not in the spec') end
end

-- Arms built with another spec start afresh; arms without the field adopt this one (see above).
local reset = {}
local unmarked = {}
for k, key in ipairs(KEYS) do
  local built = redis.call('HGET', key, 'spec')
  if built and built ~= SPEC then
    redis.call('DEL', key)
    reset[#reset + 1] = k
  end
  unmarked[k] = built ~= SPEC
end

local results = {}
while i + 4 <= #ARGV do
  local key = KEYS[tonumber(ARGV[i])]
  results[#results + 1] = apply(key, ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4]))
  i = i + 5
end

-- Aggregates per arm: H, then per channel in ARGV order: '' (no data) or ref, the windows (n s1 s2), the
-- EMAs (num den), head/lag1/lag2 buckets (n s1 s2).
local arms = {}
for k, key in ipairs(KEYS) do
  local h = redis.call('HGET', key, 'H')
  if h then
    if unmarked[k] then redis.call('HSET', key, 'spec', SPEC) end
    redis.call('PEXPIRE', key, TTL)
  end
  local out = {h or ''}
  for _, s in ipairs(CHANNELS) do
    local ref = redis.call('HGET', key, 'r:' .. s)
    if ref and h then
      out[#out + 1] = ref
      for _, lb in ipairs(WINDOWS) do out[#out + 1] = redis.call('HGET', key, 'w:' .. s .. ':' .. lb) or '0 0 0' end
      for e = 1, #TAUS_MS do out[#out + 1] = redis.call('HGET', key, 'e:' .. s .. ':' .. e) or '0 0' end
      for lag = 0, 2 do out[#out + 1] = redis.call('HGET', key, 'b:' .. s .. ':' .. (tonumber(h) - lag)) or '0 0 0' end
    else
      out[#out + 1] = ''
    end
  end
  arms[k] = out
end
return {results, arms, reset}
