-- Chat (mysocial.chat.cache). A conversation hash (`seq`: its last sequence number) never
-- expires. Indexes: `chat:conv:<id>:msgs` (messages by seq; complete:chat:msgs:<id>) and
-- `chat:list:<user>` (conversations by last message; complete:chat:list:<user>).

-- chat_send(conversation, message, messages, list:sender, list:receiver, unread:receiver,
--           unread:sender; {id, conversation, score, read, new}, conversation fields (n of them
--           first, their count in `fields`), message fields...)
--   -> {seq, the sender's unread count, the receiver's} | REFUSED missing
-- The sequence number comes from HINCRBY here, so messages are numbered in the order Redis ran
-- the sends, on every instance. A conversation that exists must be cached (`new`: it does not).
-- Sent again (the same message id), it changes nothing and answers as the first time did.
local function chat_send(keys, argv)
  local a = args(argv)
  if not a.new and redis.call('EXISTS', keys[1]) == 0 then return refuse('missing', keys[1]) end
  local sent = redis.call('HGET', keys[2], 'seq')
  if sent then  -- this send ran already (its transaction is being tried again)
    return {tonumber(sent), redis.call('ZCARD', keys[7]), redis.call('ZCARD', keys[6])}
  end
  local seq = redis.call('HINCRBY', keys[1], 'seq', 1)
  local i = 2
  for _ = 1, a.fields do
    redis.call('HSETNX', keys[1], argv[i], argv[i + 1])
    i = i + 2
  end
  local fields = {'seq', seq}
  for j = i, #argv do fields[#fields + 1] = argv[j] end
  redis.call('HSET', keys[2], unpack(fields))
  redis.call('HSET', keys[1], 'lastMessageId', cjson.encode(a.id))
  if a.score > tonumber(redis.call('HGET', keys[1], 'lastMessageAt') or '0') then
    redis.call('HSET', keys[1], 'lastMessageAt', a.score)
  end
  redis.call('ZADD', keys[3], seq, a.id)
  redis.call('ZADD', keys[4], 'GT', a.score, a.conversation)
  redis.call('ZADD', keys[5], 'GT', a.score, a.conversation)
  if not a.read then redis.call('ZADD', keys[6], seq, a.id) end
  return {seq, redis.call('ZCARD', keys[7]), redis.call('ZCARD', keys[6])}
end

-- chat_mark_read(unread:reader, message...; {ids}) -> how many were flipped
-- Only messages still unread are flipped (another device may have read them).
local function chat_mark_read(keys, argv)
  local a = args(argv)
  local n = 0
  for i, id in ipairs(a.ids) do
    if redis.call('ZREM', keys[1], id) == 1 and redis.call('EXISTS', keys[i + 1]) == 1 then
      redis.call('HSET', keys[i + 1], 'isRead', 'true')
      n = n + 1
    end
  end
  return n
end

-- chat_react(message; {sender, action, reaction}) -> the message's reactions (JSON) | REFUSED missing
-- One reaction per sender: `add` replaces theirs, `remove` takes it away.
local function chat_react(keys, argv)
  local a = args(argv)
  if redis.call('EXISTS', keys[1]) == 0 then return refuse('missing', keys[1]) end
  local out = {}
  for _, r in ipairs(list_of(keys[1], 'reaction')) do
    if type(r) == 'table' and r.senderName ~= a.sender then out[#out + 1] = r end
  end
  if a.action == 'add' then out[#out + 1] = {senderName = a.sender, type = a.reaction} end
  local encoded = #out > 0 and cjson.encode(out) or '[]'
  redis.call('HSET', keys[1], 'reaction', encoded)
  return encoded
end

-- chat_delete(message, unread:caller, unread:receiver; {caller, kind, id}) -> 1 | REFUSED missing
-- deleteForMe: hidden for the caller alone; deleteForEveryone: its content is gone.
local function chat_delete(keys, argv)
  local a = args(argv)
  if redis.call('EXISTS', keys[1]) == 0 then return refuse('missing', keys[1]) end
  if a.kind == 'deleteForMe' then
    local list = list_of(keys[1], 'deletedFor')
    local present = false
    for _, u in ipairs(list) do if u == a.caller then present = true end end
    if not present then list[#list + 1] = a.caller end
    redis.call('HSET', keys[1], 'deletedFor', cjson.encode(list), 'deleteForMe', 'true')
    redis.call('ZREM', keys[2], a.id)
  else
    redis.call('HSET', keys[1], 'deleteForEveryone', 'true', 'deleteForMe', 'true',
               'body', '""', 'gifUrl', '""', 'selectedImage', '""', 'reaction', '[]')
    redis.call('ZREM', keys[3], a.id)
  end
  return 1
end

-- chat_fill_conversation(conversation, unread:one, unread:two; {unread: [[[seq, id]...], [[seq, id]...]]},
--                        fields...) -> 1 | false (cached already)
-- A conversation from MongoDB, with its participants' unread sets, together.
local function chat_fill_conversation(keys, argv)
  local a = args(argv)
  if redis.call('EXISTS', keys[1]) == 1 then return false end
  redis.call('HSET', keys[1], unpack(rest(argv, 2)))
  for z = 1, 2 do
    for _, e in ipairs(a.unread[z]) do redis.call('ZADD', keys[z + 1], e[1], e[2]) end
  end
  return 1
end

register{
  'chat_send', chat_send, 'chat_mark_read', chat_mark_read, 'chat_react', chat_react,
  'chat_delete', chat_delete, 'chat_fill_conversation', chat_fill_conversation
}
