-- alert-hysteresis: one alert per episode per arm. State per arm hash: state (CLEAR|RAISED), above
-- (consecutive scores at or over the threshold while CLEAR), below (consecutive scores under the
-- clear threshold while RAISED), id, raised (event time), cleared (event time of
-- the last clear), off (offset of the last score applied), ev / ev_off (the last transition and the
-- offset that caused it, so a redelivered batch re-emits exactly the transitions it caused).
-- KEYS[k]  arm k;  ARGV: threshold, clear_threshold, clear_after, cooldown_ms, ttl_ms, raise_after, then per arm
-- 4 values: probability, event_time, offset (of the arm's last reading in the batch), first offset
-- of the arm in the batch. Returns per arm '' or 'RAISED <id> <raised>' / 'CLEARED <id> <raised> <cleared>'.
local threshold, clear_threshold = tonumber(ARGV[1]), tonumber(ARGV[2])
local clear_after, cooldown, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local raise_after = tonumber(ARGV[6])
local out = {}
for k, key in ipairs(KEYS) do
  local base = 6 + (k - 1) * 4
  local p, t, off, first = tonumber(ARGV[base + 1]), tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3]), tonumber(ARGV[base + 4])
  local s = redis.call('HMGET', key, 'state', 'below', 'id', 'raised', 'cleared', 'off', 'ev', 'ev_off', 'above')
  local stored_off = tonumber(s[6] or '-1')
  local event = ''
  if off <= stored_off then
    -- Already applied: re-emit the transition this range of offsets caused, if any.
    local ev_off = tonumber(s[8] or '-1')
    if s[7] and ev_off >= first and ev_off <= off then event = s[7] end
  else
    local state, below = s[1] or 'CLEAR', tonumber(s[2] or '0')
    local cleared = tonumber(s[5] or '-1')
    if state == 'CLEAR' then
      local above = p >= threshold and tonumber(s[9] or '0') + 1 or 0
      if above >= raise_after and (cleared < 0 or t - cleared >= cooldown) then
        local id = string.gsub(key, '^.*:', '') .. '-' .. t
        event = 'RAISED ' .. id .. ' ' .. t
        redis.call('HSET', key, 'state', 'RAISED', 'below', 0, 'above', 0, 'id', id, 'raised', t)
      else
        redis.call('HSET', key, 'above', above)
      end
    else
      below = p < clear_threshold and below + 1 or 0
      if below >= clear_after then
        event = 'CLEARED ' .. s[3] .. ' ' .. s[4] .. ' ' .. t
        redis.call('HSET', key, 'state', 'CLEAR', 'below', 0, 'cleared', t)
      else
        redis.call('HSET', key, 'below', below)
      end
    end
    redis.call('HSET', key, 'off', off)
    if event ~= '' then redis.call('HSET', key, 'ev', event, 'ev_off', off) end
  end
  redis.call('PEXPIRE', key, ttl)
  out[k] = event
end
return out
