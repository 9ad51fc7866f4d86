-- Users (mysocial.users.cache): the user hash's counters and lists are changed only here.

local function user_bump(key, field, by)
  return redis.call('HINCRBY', key, field, by)
end

-- A user id into a JSON list field of the user hash, once; or out of it.
local function user_list_add(key, field, value)
  local items = list_of(key, field)
  for _, v in ipairs(items) do if v == value then return end end
  items[#items + 1] = value
  store_list(key, field, items)
end

local function user_list_remove(key, field, value)
  local out = {}
  for _, v in ipairs(list_of(key, field)) do if v ~= value then out[#out + 1] = v end end
  store_list(key, field, out)
end

-- users_merge(users, users:names; {entries: [[id, score, username], ...]}) -> how many were added
-- One chunk of the users indexes' rebuild.
local function users_merge(keys, argv)
  local a = args(argv)
  local added = 0
  for _, e in ipairs(a.entries) do
    added = added + redis.call('ZADD', keys[1], 'NX', e[2], e[1])
    redis.call('ZADD', keys[2], 'NX', 0, string.lower(e[3]) .. '\0' .. e[1])
  end
  return added
end

register{'users_merge', users_merge}
