-- Drop an expired cancellation from the indexes (its keys are gone by Redis TTL).
-- KEYS: 1 the delivery hash, 2 all, 3 the Cancelled stage index, 4 expiring, 5 owner/month index.
-- ARGV: 1 delivery id, 2 its member in the expiring set.
if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('HGET', KEYS[1], 's') == 'Cancelled' then return 0 end -- not expired yet here
  redis.call('ZREM', KEYS[4], ARGV[2]) -- the id was reused after its tombstone expired
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[2])
return 1
