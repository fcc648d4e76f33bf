-- A confirmation of hand-over: its type must be the one the delivery requires; stored once;
-- records Completed (at the confirmation's place and time) unless the flight already reported it.
-- KEYS: common, 12 confirmation blob. ARGV: common, 4 type, 5 dateTime (epoch ms), 6 location,
--       7 blob ('' = none).
if redis.call('EXISTS', DOC) == 0 then return absent() end
local current = redis.call('HMGET', DOC, 's', 'c', 'ct', 'ca')
if current[1] == 'Cancelled' then return {'closed', current[1]} end
if current[3] then return {'confirmed'} end
if current[2] ~= ARGV[4] then return {'type', current[2]} end
redis.call('HSET', DOC, 'ct', ARGV[4], 'cd', ARGV[5], 'cg', ARGV[6])
if ARGV[7] ~= '' then redis.call('SET', KEYS[12], ARGV[7]) end
if current[1] ~= 'Completed' then
  restage(current[1], 'Completed', current[4])
  record('Completed', ARGV[6], ARGV[5]) -- where and when it was handed over
end
return {'confirmed-now'}
