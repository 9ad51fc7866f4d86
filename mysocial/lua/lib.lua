-- The MySocial Redis Functions library: helpers shared by every file (mysocial.core.functions
-- loads lib.lua first, then the others, as one library).
--
-- Conventions, for every function here:
--   keys: positional (Redis needs them declared); each function names them in its first lines.
--   args: ARGV[1] is a JSON object of named arguments (`args(ARGV)`); a hash's field/value pairs,
--         when a function stores one, follow as ARGV[2], ARGV[3], ... (values already JSON).
--   returns: the function's value on success; false (nil) when there was nothing to do;
--            an error reply `REFUSED <reason> <detail>` when a precondition the caller can
--            fix does not hold — `missing <key> [<key>...]`: hashes to change in place are not
--            cached (the caller fills them from MongoDB and retries); `incomplete <index>
--            [<index>...]`: indexes the function decides by are not complete (the caller
--            completes them and retries).
--            Other refusals name a rule (`blocked`, `gone`).
--   Every write function is idempotent: a transaction refused in part is retried whole.

-- Register the functions of a file: {'name', callback, 'name', callback, ...} (at load time Lua
-- has no pairs()); `readonly` ones get the no-writes flag (they may run on a replica).
local function register(callbacks, readonly)
  for i = 1, #callbacks, 2 do
    redis.register_function{function_name = callbacks[i], callback = callbacks[i + 1],
                            flags = readonly and {'no-writes'} or {}}
  end
end

local function args(argv)
  return cjson.decode(argv[1])
end

local function given(value)
  return value ~= nil and value ~= cjson.null
end

local function refuse(reason, detail)
  return redis.error_reply('REFUSED ' .. reason .. (detail and (' ' .. detail) or ''))
end

-- ARGV[first..] as a table (a hash's field/value pairs).
local function rest(argv, first)
  local out = {}
  for i = first, #argv do out[#out + 1] = argv[i] end
  return out
end

-- Index completeness: an index (or a group of indexes rebuilt together) named NAME is complete
-- while the key `complete:NAME` exists. mysocial.core.indexes owns the rebuild.
local function complete(marker)
  return redis.call('EXISTS', marker) == 1
end

-- A table answering `t[member]` (true or false) for the sorted set `key` (the suspended or the
-- limited users): read whole when it is small, else by ZSCORE, each member asked once (a page
-- must not read a set of millions; a few dozen members cost less read at once).
local WHOLE = 64
local function zset_members(key)
  if redis.call('ZCARD', key) <= WHOLE then
    local all = {}
    for _, member in ipairs(redis.call('ZRANGE', key, 0, -1)) do all[member] = true end
    return setmetatable(all, {__index = function() return false end})
  end
  return setmetatable({}, {__index = function(t, member)
    local found = redis.call('ZSCORE', key, member) ~= false
    rawset(t, member, found)
    return found
  end})
end

-- JSON lists inside hash fields (cjson encodes an empty table as {}).
local function list_of(key, field)
  local raw = redis.call('HGET', key, field)
  if not raw then return {} end
  local ok, decoded = pcall(cjson.decode, raw)
  if not ok or type(decoded) ~= 'table' then return {} end
  return decoded
end

local function store_list(key, field, items)
  redis.call('HSET', key, field, #items == 0 and '[]' or cjson.encode(items))
end
