-- Shared by every write script (repository.py prepends it, after a STAGE_SLOT table it generates
-- from DeliveryStage: stage name -> its index key's position in KEYS).
-- Common KEYS: 1..6 stage indexes, 7 the delivery hash, 8 its events list, 9 its tombstone,
--              10 the index of all deliveries, 11 the expiring cancellations.
-- Common ARGV: 1 delivery id, 2 now (epoch ms), 3 the delivery's pub/sub channel.
local DOC, EVENTS, TOMBSTONE, ALL, EXPIRING = KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11]
local ID, NOW, CHANNEL = ARGV[1], ARGV[2], ARGV[3]

local function absent()
  if redis.call('EXISTS', TOMBSTONE) == 1 then return {'gone', redis.call('GET', TOMBSTONE)} end
  return {'missing'}
end

local function restage(from, to, score)
  redis.call('ZREM', KEYS[STAGE_SLOT[from]], ID)
  redis.call('ZADD', KEYS[STAGE_SLOT[to]], score, ID)
  redis.call('HSET', DOC, 's', to)
end

-- An event is "stage|lat,lon,alt|epoch ms"; subscribers of the channel get the same line.
local function record(stage, location, at)
  local line = stage .. '|' .. location .. '|' .. at
  redis.call('RPUSH', EVENTS, line)
  redis.call('PUBLISH', CHANNEL, line)
end

-- ARGV[first] = n, then n field/value pairs to set, then the names of fields to delete.
-- `skip(field)` leaves a field as it is.
local function apply_fields(first, skip)
  local n = tonumber(ARGV[first])
  local pairs_ = {}
  for i = first + 1, first + 2 * n, 2 do
    if not (skip and skip(ARGV[i])) then
      pairs_[#pairs_ + 1] = ARGV[i]
      pairs_[#pairs_ + 1] = ARGV[i + 1]
    end
  end
  if #pairs_ > 0 then redis.call('HSET', DOC, unpack(pairs_)) end
  for i = first + 1 + 2 * n, #ARGV do redis.call('HDEL', DOC, ARGV[i]) end
end

-- The owner/month summary index: score +inf while stored, the expiry time once cancelled.
local function move_month(new_index, old_index, months, old, new)
  if old == new then return end
  redis.call('ZREM', old_index, ID)
  redis.call('ZADD', new_index, 'inf', ID)
  redis.call('SADD', months, new)
  redis.call('HSET', DOC, 'm', new)
end
