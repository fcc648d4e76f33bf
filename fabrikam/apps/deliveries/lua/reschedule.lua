-- Reschedule (PATCH): new pickup, drop-off, pickup time or deadline; records Rescheduled.
-- KEYS: common, 12 owner/month index for the new month, 13 for the current month, 14 owner's months.
-- ARGV: common, 4 the month the caller read, 5 the new month, 6.. fields (see apply_fields).
if redis.call('EXISTS', DOC) == 0 then return absent() end
local current = redis.call('HMGET', DOC, 's', 'm', 'ca')
if current[2] ~= ARGV[4] then return {'retry'} end
local stage = current[1]
if stage ~= 'Created' and stage ~= 'Rescheduled' and stage ~= 'HeadedToPickup' then
  return {'closed', stage}
end
apply_fields(6)
move_month(KEYS[12], KEYS[13], KEYS[14], ARGV[4], ARGV[5])
restage(stage, 'Rescheduled', current[3])
record('Rescheduled', redis.call('HGET', DOC, 'p'), NOW)
return {'rescheduled'}
