-- latest-by-key: per key, keep the entry with the highest `order` (e.g. a gateway sequence number).
-- KEYS[i]        hash key of entity i (already namespaced by the caller)
-- ARGV[1]        TTL in milliseconds applied to every touched key
-- ARGV[1+2i-1]   order of entity i's entry (a number)
-- ARGV[1+2i]     payload of entity i's entry (a string)
-- Returns, per key, the previous order or -1 when the key was absent. Max-merge makes a re-run of
-- the same batch (at-least-once redelivery) a no-op.
local ttl = tonumber(ARGV[1])
local previous = {}
for i, key in ipairs(KEYS) do
  local order = tonumber(ARGV[2 * i])
  local payload = ARGV[2 * i + 1]
  local stored = redis.call('HGET', key, 'order')
  local stored_order = stored and tonumber(stored) or nil
  previous[i] = stored_order and stored or '-1'
  if stored_order == nil or order > stored_order then
    redis.call('HSET', key, 'order', ARGV[2 * i], 'payload', payload)
  end
  redis.call('PEXPIRE', key, ttl)
end
return previous
