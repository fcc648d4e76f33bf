-- Create or replace a delivery (the workflow's idempotent PUT).
-- KEYS: common, 12 owner/month index for the new month, 13 for the current month, 14 owner's months.
-- ARGV: common, 4 the month the caller read ('' = expects no delivery), 5 the new month,
--       6 owner id, 7.. fields (see apply_fields).
local expected, month, owner = ARGV[4], ARGV[5], ARGV[6]
if redis.call('EXISTS', DOC) == 0 then
  if expected ~= '' then return {'retry'} end
  if redis.call('EXISTS', TOMBSTONE) == 1 then return absent() end
  apply_fields(7)
  redis.call('HSET', DOC, 's', 'Created', 'ca', NOW, 'm', month)
  record('Created', redis.call('HGET', DOC, 'p'), NOW)
  redis.call('ZADD', KEYS[12], 'inf', ID)
  redis.call('SADD', KEYS[14], month)
  redis.call('ZADD', ALL, NOW, ID)
  redis.call('ZADD', KEYS[STAGE_SLOT['Created']], NOW, ID)
  return {'created'}
end
local current = redis.call('HMGET', DOC, 's', 'o', 'm', 'tt')
if current[3] ~= expected then return {'retry'} end
if current[1] == 'Cancelled' or current[1] == 'Completed' then return {'closed', current[1]} end
if current[2] ~= owner then return {'owner', current[2]} end
-- Once the drone reports, its ETAs are fresher than the assignment's.
local tracked = current[4]
apply_fields(7, function(field) return tracked and (field == 'pe' or field == 'de') end)
move_month(KEYS[12], KEYS[13], KEYS[14], expected, month)
return {'replaced'}
