-- outcome-store: one batch's writes of maintenance-outcomes, atomically (outcome-store.ts says why).
-- KEYS[1]              the input partition's publication record (what the last batch published)
-- KEYS[1+i], i=1..n    arm i's hash {rev, state}
-- KEYS[1+n+j], j=1..m  tally j's hash (field a:<alert id> or f:<arm>:<time> -> outcome)
-- ARGV: arm_ttl_ms, tally_ttl_ms, publication json, n, m, then per arm (expected rev, next state json),
-- then the change count c and per change (tally index j, field, value; '' deletes the field).
-- Every arm is compared first: when another batch wrote one since it was read, nothing is written
-- and the call fails (the runtime retries the batch on fresh state). Returns per tally the counts
-- TP, FP, pending, caught, missed.
local arm_ttl, tally_ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local n, m = tonumber(ARGV[4]), tonumber(ARGV[5])
for i = 1, n do
  local stored = redis.call('HGET', KEYS[1 + i], 'rev') or '0'
  if stored ~= ARGV[5 + 2 * i - 1] then
    return redis.error_reply('OUTCOME_CONFLICT ' .. KEYS[1 + i] .. ' changed since the batch read it')
  end
end
for i = 1, n do
  redis.call('HSET', KEYS[1 + i], 'rev', tonumber(ARGV[5 + 2 * i - 1]) + 1, 'state', ARGV[5 + 2 * i])
  redis.call('PEXPIRE', KEYS[1 + i], arm_ttl)
end
local base = 5 + 2 * n
local c = tonumber(ARGV[base + 1])
for k = 1, c do
  local key = KEYS[1 + n + tonumber(ARGV[base + 3 * k - 1])]
  local field, value = ARGV[base + 3 * k], ARGV[base + 3 * k + 1]
  if value == '' then redis.call('HDEL', key, field) else redis.call('HSET', key, field, value) end
end
redis.call('SET', KEYS[1], ARGV[3], 'PX', tally_ttl)
local out = {}
for j = 1, m do
  local key = KEYS[1 + n + j]
  redis.call('PEXPIRE', key, tally_ttl)
  local tp, fp, pending, caught, missed = 0, 0, 0, 0, 0
  for _, v in ipairs(redis.call('HVALS', key)) do
    if v == 'TP' then tp = tp + 1 elseif v == 'FP' then fp = fp + 1 elseif v == 'pending' then pending = pending + 1
    elseif v == 'caught' then caught = caught + 1 elseif v == 'missed' then missed = missed + 1 end
  end
  for _, x in ipairs({ tp, fp, pending, caught, missed }) do out[#out + 1] = x end
end
return out
