-- A flight update from the drone scheduler. Older than the last one applied: ignored. A new stage
-- records an event; every applied update is published on the delivery's channel.
-- ARGV: common, 4 stage, 5 location, 6 pickup ETA ('' = none), 7 delivery ETA, 8 timestamp.
if redis.call('EXISTS', DOC) == 0 then return absent() end
local current = redis.call('HMGET', DOC, 's', 'tt', 'ca')
local stage, location, at = ARGV[4], ARGV[5], ARGV[8]
if current[1] == 'Cancelled' or current[1] == 'Completed' then return {'ignored', current[1]} end
if current[2] and tonumber(at) <= tonumber(current[2]) then return {'stale'} end
redis.call('HSET', DOC, 'll', location, 'tt', at)
for field, value in pairs({pe = ARGV[6], de = ARGV[7]}) do
  if value == '' then redis.call('HDEL', DOC, field) else redis.call('HSET', DOC, field, value) end
end
if current[1] ~= stage then
  restage(current[1], stage, current[3])
  record(stage, location, at)
else
  redis.call('PUBLISH', CHANNEL, stage .. '|' .. location .. '|' .. at)
end
return {'applied'}
