-- Small functions of core modules: rate limits, presence, RQ's enqueue, coalesced jobs' signals.

-- ratelimit_reserve(counter; {window, by}) -> the count once `by` more are counted (one request,
-- or a lease of many); the counter expires with its window. One call instead of INCRBY + EXPIRE NX:
-- a single command costs the API about half the CPU of two.
local function ratelimit_reserve(keys, argv)
  local a = args(argv)
  local n = redis.call('INCRBY', keys[1], a.by)
  if n == a.by then redis.call('EXPIRE', keys[1], a.window) end
  return n
end

-- presence_leave(presence:<instance>; {username}) -> the user's sockets left on this instance
local function presence_leave(keys, argv)
  local a = args(argv)
  local n = redis.call('HINCRBY', keys[1], a.username, -1)
  if n <= 0 then redis.call('HDEL', keys[1], a.username) end
  return n
end

-- rq_enqueue(rq:queues, rq:job:<id>, rq:queue:<name>; {id}, job hash fields...) -> 1
-- What RQ's Queue.enqueue_job writes, in one call (mysocial's queues module fills a template
-- RQ made itself): register the queue, store the job, push its id.
local function enqueue(registry, job, queue, id, argv)
  redis.call('SADD', registry, queue)
  redis.call('HSET', job, unpack(rest(argv, 2)))
  redis.call('RPUSH', queue, id)
end

local function rq_enqueue(keys, argv)
  enqueue(keys[1], keys[2], keys[3], args(argv).id, argv)
  return 1
end

-- persist_signal(persist:drain:<queue>, persist:waiting:<queue>, rq:queues, rq:job:<id>, rq:queue:<queue>;
--                {members, id, ttl}, job hash fields...) -> 1 if the drain job was enqueued, else 0
-- Coalesced jobs (mysocial's queues module): the members join the job's pending set, and the
-- job is enqueued only if none is waiting (the waiting mark lives `ttl` seconds at most, so a
-- mark whose job was lost is not there for ever; the job removes it when it starts).
-- queue_signal(pending list, waiting, ...the same) does that for a list: members in order.
local function coalesce(keys, argv, add)
  local a = args(argv)
  if #a.members > 0 then redis.call(add, keys[1], unpack(a.members)) end
  if not redis.call('SET', keys[2], a.id, 'NX', 'EX', a.ttl) then return 0 end
  enqueue(keys[3], keys[4], keys[5], a.id, argv)
  return 1
end

local function persist_signal(keys, argv)
  return coalesce(keys, argv, 'SADD')
end

local function queue_signal(keys, argv)
  return coalesce(keys, argv, 'RPUSH')
end

-- Put a take's entries back at the list's head, in their order, and forget the take.
local function give_back(pending, taken, id, take)
  for j = #take.entries, 1, -1 do redis.call('LPUSH', pending, take.entries[j]) end
  redis.call('HDEL', taken, id)
end

-- queue_take(pending list, taken; {id, n, now, stale}) -> up to `n` entries from the list's head
-- The entries a job takes are held in `taken` under the take's id until the job is done with
-- them (it deletes that field); the takes older than `stale` seconds (their job died) go back to
-- the list's head first, the oldest first, each in its order.
local function queue_take(keys, argv)
  local a = args(argv)
  local held, stale = redis.call('HGETALL', keys[2]), {}
  for i = 1, #held, 2 do
    local take = cjson.decode(held[i + 1])
    if take.at < a.now - a.stale then stale[#stale + 1] = {held[i], take} end
  end
  table.sort(stale, function(x, y) return x[2].at > y[2].at end)  -- pushed newest first
  for _, s in ipairs(stale) do give_back(keys[1], keys[2], s[1], s[2]) end
  local entries = redis.call('LRANGE', keys[1], 0, a.n - 1)
  if #entries == 0 then return {} end
  redis.call('LTRIM', keys[1], #entries, -1)
  redis.call('HSET', keys[2], a.id, cjson.encode({at = a.now, entries = entries}))
  return entries
end

-- queue_give_back(pending list, taken; {id}) -> how many entries went back to the list's head
-- (0 when the take is not held: given back already, once it was stale).
local function queue_give_back(keys, argv)
  local a = args(argv)
  local raw = redis.call('HGET', keys[2], a.id)
  if not raw then return 0 end
  local take = cjson.decode(raw)
  give_back(keys[1], keys[2], a.id, take)
  return #take.entries
end

register{'ratelimit_reserve', ratelimit_reserve,
          'presence_leave', presence_leave, 'rq_enqueue', rq_enqueue,
          'persist_signal', persist_signal, 'queue_signal', queue_signal, 'queue_take', queue_take,
          'queue_give_back', queue_give_back}
