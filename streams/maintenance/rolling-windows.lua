-- rolling-windows: incremental per-arm sensor windows for FactoryGuard (docs/factoryguard-features.md).
-- One call per poll batch: applies the batch's readings in order and returns, for every arm key, the
-- aggregates the features are computed from. Raw readings are never kept: per (arm, sensor) there
-- are 60 s buckets (count, shifted sum, shifted sum of squares) for the last 12 h, running window
-- sums for 1/6/12 h, and truncated exponential sums for the EMAs, all updated incrementally.
--
-- KEYS[k]   hash of arm k
-- ARGV      W_ms, LATENESS_buckets, TTL_ms, then per reading 5 values: k, sensor (v|t|p), value, event_time_ms, offset
-- Per reading result: 1 accepted, 2 rejected as too late, 3 already applied (offset <= the arm's last offset:
-- a redelivered batch), so state changes exactly once per reading.
-- Hash fields: H head bucket, off last applied offset, r:s reference value (first accepted value; sums are
-- of value - ref to limit cancellation), b:s:<bucket> "n s1 s2", w:s:<Lb> "n s1 s2", e:s:<i> "num den"
-- (num = sum of weight * (bucket mean - ref)), c:s buckets with data in the 12 h ring.
local W = tonumber(ARGV[1])
local LATENESS = tonumber(ARGV[2])
local TTL = tonumber(ARGV[3])
local RING = 720
local WINDOWS = {60, 360, 720}
local TAUS_MS = {3600000, 21600000, 43200000}
local SENSORS = {'v', 't', 'p'}

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
  for _, s in ipairs(SENSORS) do
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

local results = {}
local i = 4
while i + 4 <= #ARGV do
  local key = KEYS[tonumber(ARGV[i])]
  results[#results + 1] = apply(key, ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4]))
  i = i + 5
end

-- Aggregates per arm: H, then per sensor: present(0/1), ref, 3 windows (n s1 s2), 3 EMA (num den),
-- head/lag1/lag2 buckets (n s1).
local arms = {}
for k, key in ipairs(KEYS) do
  redis.call('PEXPIRE', key, TTL)
  local h = redis.call('HGET', key, 'H')
  local out = {h or ''}
  for _, s in ipairs(SENSORS) do
    local ref = redis.call('HGET', key, 'r:' .. s)
    if ref and h then
      out[#out + 1] = ref
      for _, lb in ipairs(WINDOWS) do out[#out + 1] = redis.call('HGET', key, 'w:' .. s .. ':' .. lb) or '0 0 0' end
      for e = 1, 3 do out[#out + 1] = redis.call('HGET', key, 'e:' .. s .. ':' .. e) or '0 0' end
      for lag = 0, 2 do out[#out + 1] = redis.call('HGET', key, 'b:' .. s .. ':' .. (tonumber(h) - lag)) or '0 0 0' end
    else
      out[#out + 1] = ''
    end
  end
  arms[k] = out
end
return {results, arms}
