"""The chat's Lua scripts: every multi-key change is one atomic step inside the write-path transaction.

Hash fields are JSON (see mysocial.core.redis.to_hash), so scripts write JSON
literals ('true', '""', cjson.encode(...)) and integers that stay HINCRBY-able.
"""
from __future__ import annotations

import redis.asyncio as aredis
from redis.commands.core import AsyncScript


def _script(source: str) -> AsyncScript:
    return AsyncScript(aredis.Redis(), source)  # the client only lends its encoder; calls pass the pipeline


# KEYS: conversation, message, conversation messages, chat list of sender, of receiver, receiver's unread,
#       sender's unread
# ARGV: messageId, conversationId, score (ms), isRead (1|0), n, n conversation field/value pairs
#       (set only if absent), then the message's field/value pairs.
# Returns {seq, sender's unread count, receiver's unread count}. The sequence number comes from
# HINCRBY in the same script, so the order of messages is exactly the order in which Redis ran the sends.
SEND = _script("""
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local n = tonumber(ARGV[5])
local i = 6
for _ = 1, n do
  redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1])
  i = i + 2
end
local fields = {'seq', seq}
for j = i, #ARGV do table.insert(fields, ARGV[j]) end
redis.call('HSET', KEYS[2], unpack(fields))
local score = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'lastMessageId', cjson.encode(ARGV[1]))
if score > tonumber(redis.call('HGET', KEYS[1], 'lastMessageAt') or '0') then
  redis.call('HSET', KEYS[1], 'lastMessageAt', ARGV[3])
end
redis.call('ZADD', KEYS[3], seq, ARGV[1])
redis.call('ZADD', KEYS[4], 'GT', score, ARGV[2])
redis.call('ZADD', KEYS[5], 'GT', score, ARGV[2])
if ARGV[4] == '0' then redis.call('ZADD', KEYS[6], seq, ARGV[1]) end
return {seq, redis.call('ZCARD', KEYS[7]), redis.call('ZCARD', KEYS[6])}
""")

# KEYS: the reader's unread set, then one message key per id in ARGV (same order).
# Only messages still unread are flipped: another device may have read them.
MARK_READ = _script("""
local n = 0
for i = 2, #KEYS do
  if redis.call('ZREM', KEYS[1], ARGV[i - 1]) == 1 and redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('HSET', KEYS[i], 'isRead', 'true')
    n = n + 1
  end
end
return n
""")

# KEYS: message. ARGV: senderName, add|remove, reaction type. Returns the new reaction list (JSON).
REACT = _script("""
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local raw = redis.call('HGET', KEYS[1], 'reaction')
local list = {}
if raw then
  local ok, decoded = pcall(cjson.decode, raw)
  if ok and type(decoded) == 'table' then list = decoded end
end
local out = {}
for _, r in ipairs(list) do
  if type(r) == 'table' and r.senderName ~= ARGV[1] then table.insert(out, r) end
end
if ARGV[2] == 'add' then table.insert(out, {senderName = ARGV[1], type = ARGV[3]}) end
local encoded = '[]'
if #out > 0 then encoded = cjson.encode(out) end
redis.call('HSET', KEYS[1], 'reaction', encoded)
return encoded
""")

# KEYS: message, caller's unread set, receiver's unread set. ARGV: caller id, deleteForMe|deleteForEveryone, messageId.
DELETE = _script("""
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[2] == 'deleteForMe' then
  local raw = redis.call('HGET', KEYS[1], 'deletedFor')
  local list = {}
  if raw then
    local ok, decoded = pcall(cjson.decode, raw)
    if ok and type(decoded) == 'table' then list = decoded end
  end
  local present = false
  for _, u in ipairs(list) do if u == ARGV[1] then present = true end end
  if not present then table.insert(list, ARGV[1]) end
  redis.call('HSET', KEYS[1], 'deletedFor', cjson.encode(list), 'deleteForMe', 'true')
  redis.call('ZREM', KEYS[2], ARGV[3])
else
  redis.call('HSET', KEYS[1], 'deleteForEveryone', 'true', 'deleteForMe', 'true',
             'body', '""', 'gifUrl', '""', 'selectedImage', '""', 'reaction', '[]')
  redis.call('ZREM', KEYS[3], ARGV[3])
end
return 1
""")

# KEYS: conversation, unread set of participant one, of participant two.
# ARGV: m (conversation field/value pairs), pairs, then for each unread set: count, (seq, id) pairs.
# Fills the conversation and its unread sets from MongoDB together, or nothing
# if the conversation is already cached.
FILL_CONVERSATION = _script("""
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local m = tonumber(ARGV[1])
local fields = {}
for i = 2, 1 + 2 * m do table.insert(fields, ARGV[i]) end
redis.call('HSET', KEYS[1], unpack(fields))
local i = 2 + 2 * m
for z = 2, 3 do
  local count = tonumber(ARGV[i])
  i = i + 1
  for _ = 1, count do
    redis.call('ZADD', KEYS[z], ARGV[i], ARGV[i + 1])
    i = i + 2
  end
end
return 1
""")

# KEYS: a sorted set. ARGV: ttl, NX|GT, then score/member pairs.
# Adds members read back from MongoDB; a set this creates gets the cache TTL,
# one that exists keeps its TTL (or none, while a write to it is pending).
FILL_SET = _script("""
local existed = redis.call('EXISTS', KEYS[1])
for i = 3, #ARGV, 2 do redis.call('ZADD', KEYS[1], ARGV[2], ARGV[i], ARGV[i + 1]) end
if existed == 0 and tonumber(ARGV[1]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return existed
""")
