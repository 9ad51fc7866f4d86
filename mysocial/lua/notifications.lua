-- Notifications (mysocial.notifications.cache). Index `notifications:<userId>` is complete while
-- complete:notifications:<userId> exists.

-- notification_read(notifications:<user>, notification, complete:notifications:<user>; {id})
--   -> 1 | false (not this user's, or deleted) | REFUSED incomplete | REFUSED missing
local function notification_read(keys, argv)
  local a = args(argv)
  if not complete(keys[3]) then return refuse('incomplete', string.sub(keys[3], 10)) end
  if not redis.call('ZSCORE', keys[1], a.id) then return false end
  if redis.call('EXISTS', keys[2]) == 0 then return refuse('missing', keys[2]) end
  redis.call('HSET', keys[2], 'read', 'true')
  return 1
end

-- notification_put(notification, pending:deleted, gone:notification, notifications:<user>;
--                  {member, id, ttl, score}, fields...) -> 'filled' | 'cached' | 'gone'
-- Cache a notification the worker stored, and list it for its recipient: once, and never one
-- deleted meanwhile.
local function notification_put(keys, argv)
  local a = args(argv)
  local outcome = doc_fill({keys[1], keys[2], keys[3]}, argv)
  if outcome ~= 'gone' then redis.call('ZADD', keys[4], a.score, a.id) end
  return outcome
end

register{'notification_read', notification_read, 'notification_put', notification_put}
