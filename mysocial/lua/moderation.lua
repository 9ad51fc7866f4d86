-- Moderation (mysocial.moderation.cache): accounts' standing, reports, the audit log.

-- account_state(account:<id>, accounts:limited, accounts:suspended, complete:accounts:limited,
--               complete:accounts:suspended, gone:account:limited, gone:account:suspended;
--               {id, state, now, keep_ms, base}, fields...) -> the state before | REFUSED incomplete
-- Set the account's fields (its new `state` among them) and move it into the set of its new state
-- (limited, suspended) and out of the other; a set it leaves remembers it in its gone: set for
-- keep_ms, so a rebuild running meanwhile does not bring it back. Without `state` (a role
-- change) the sets are left alone. An account not cached is first stored as
-- `base` (field, value, ... as the caller read it: MongoDB's, or a new account's).
local function account_state(keys, argv)
  local a = args(argv)
  for i = 4, 5 do
    if not complete(keys[i]) then return refuse('incomplete', string.sub(keys[i], 10)) end
  end
  if redis.call('EXISTS', keys[1]) == 0 then redis.call('HSET', keys[1], unpack(a.base)) end
  local before = redis.call('HGET', keys[1], 'state')
  redis.call('HSET', keys[1], unpack(rest(argv, 2)))
  if not given(a.state) then return before and cjson.decode(before) or 'active' end  -- a role only
  for i, state in ipairs({'limited', 'suspended'}) do
    if a.state == state then
      redis.call('ZADD', keys[1 + i], a.now, a.id)
      redis.call('ZREM', keys[5 + i], a.id)
    elseif redis.call('ZREM', keys[1 + i], a.id) == 1 then
      redis.call('ZADD', keys[5 + i], a.now, a.id)
    end
    redis.call('ZREMRANGEBYSCORE', keys[5 + i], '-inf', a.now - a.keep_ms)
  end
  return before and cjson.decode(before) or 'active'
end

-- report_open(report:<id>, gone:report, reports:open, reported:<reporter>, complete:reports;
--             {id, score, target}, fields...) -> 1 | REFUSED duplicate <id> | REFUSED incomplete
-- File a report, unless the reporter has one open on the same target (`target`:
-- "<type>:<id>"). The same call again changes nothing.
local function report_open(keys, argv)
  local a = args(argv)
  if not complete(keys[5]) then return refuse('incomplete', 'reports') end
  local open = redis.call('HGET', keys[4], a.target)
  if open and open ~= a.id then return refuse('duplicate', open) end
  redis.call('HSET', keys[1], unpack(rest(argv, 2)))
  redis.call('ZREM', keys[2], a.id)
  redis.call('ZADD', keys[3], a.score, a.id)
  redis.call('HSET', keys[4], a.target, a.id)
  return 1
end

-- report_status(report:<id>, reports:open, reports:resolved, reported:<reporter>, complete:reports;
--               {id, score, status, target}, fields...)
--   -> 1 | REFUSED missing | REFUSED incomplete | REFUSED duplicate <id>
-- Change a report's fields and list it under its `status` (open, resolved); reopening one whose
-- reporter has filed another open report on the target since is refused.
local function report_status(keys, argv)
  local a = args(argv)
  if redis.call('EXISTS', keys[1]) == 0 then return refuse('missing', keys[1]) end
  if not complete(keys[5]) then return refuse('incomplete', 'reports') end
  local open = redis.call('HGET', keys[4], a.target)
  if a.status == 'open' then
    if open and open ~= a.id then return refuse('duplicate', open) end
    redis.call('ZREM', keys[3], a.id)
    redis.call('ZADD', keys[2], a.score, a.id)
    redis.call('HSET', keys[4], a.target, a.id)
  else
    redis.call('ZREM', keys[2], a.id)
    redis.call('ZADD', keys[3], a.score, a.id)
    if open == a.id then redis.call('HDEL', keys[4], a.target) end
  end
  redis.call('HSET', keys[1], unpack(rest(argv, 2)))
  return 1
end

-- reports_merge(reports:open, reports:resolved, gone:report, reported:<reporter>...;
--               {entries: [[id, score, status, reporter slot, target], ...]}) -> how many were added
-- One chunk of the reports group's rebuild: a report listed already (written since) or gone is skipped.
local function reports_merge(keys, argv)
  local a = args(argv)
  local added = 0
  for _, e in ipairs(a.entries) do
    local id, score, status = e[1], e[2], e[3]
    if not redis.call('ZSCORE', keys[3], id) and not redis.call('ZSCORE', keys[1], id)
        and not redis.call('ZSCORE', keys[2], id) then
      added = added + 1
      if status == 'open' then
        redis.call('ZADD', keys[1], score, id)
        redis.call('HSETNX', keys[e[4]], e[5], id)
      else
        redis.call('ZADD', keys[2], score, id)
      end
    end
  end
  return added
end

register{
  'account_state', account_state, 'report_open', report_open, 'report_status', report_status,
  'reports_merge', reports_merge
}
