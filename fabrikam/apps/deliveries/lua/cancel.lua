-- Cancel (DELETE): records Cancelled once; every key of the delivery expires at ARGV[4]; a
-- tombstone outlives them so a late PUT/PATCH is refused instead of resurrecting the delivery.
-- KEYS: common, 12 the owner/month index, 13 confirmation blob, 14 notify-me requests.
-- ARGV: common, 4 expires at (epoch ms), 5 tombstone expires at, 6 member for EXPIRING,
--       7 the month the caller read, 8 why ('' = no reason given).
if redis.call('EXISTS', DOC) == 0 then return absent() end
local current = redis.call('HMGET', DOC, 's', 'm', 'ca', 'xa', 'll', 'p')
if current[2] ~= ARGV[7] then return {'retry'} end
local stage = current[1]
if stage == 'Cancelled' then return {'cancelled', current[4]} end
if stage == 'Completed' then return {'closed', stage} end
redis.call('HSET', DOC, 'xa', NOW)
if ARGV[8] ~= '' then redis.call('HSET', DOC, 'r', ARGV[8]) end
restage(stage, 'Cancelled', current[3])
record('Cancelled', current[5] or current[6], NOW)
for _, key in ipairs({DOC, EVENTS, KEYS[13], KEYS[14]}) do
  redis.call('PEXPIREAT', key, ARGV[4])
end
redis.call('SET', TOMBSTONE, NOW, 'PXAT', ARGV[5])
redis.call('ZADD', KEYS[12], 'XX', ARGV[4], ID)
redis.call('ZADD', EXPIRING, ARGV[4], ARGV[6])
return {'cancelled', NOW}
