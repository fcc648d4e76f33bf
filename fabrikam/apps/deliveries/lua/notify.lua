-- A notify-me request, stored with the delivery once (the same request twice is one entry).
-- KEYS: common, 12 the requests list. ARGV: common, 4 the request (JSON), 5 the most kept.
if redis.call('EXISTS', DOC) == 0 then return absent() end
local stage = redis.call('HGET', DOC, 's')
if stage == 'Cancelled' or stage == 'Completed' then return {'closed', stage} end
if redis.call('LPOS', KEYS[12], ARGV[4]) then return {'stored'} end
if redis.call('LLEN', KEYS[12]) >= tonumber(ARGV[5]) then return {'full'} end
redis.call('RPUSH', KEYS[12], ARGV[4])
return {'stored'}
