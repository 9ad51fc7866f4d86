-- Small functions of core modules: rate limits, presence, RQ's enqueue, the persist drain's signal.

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
-- Coalesced persistence (mysocial's queues module): the members join the queue's drain set, and
-- a drain job is enqueued only if none is waiting (the waiting mark lives `ttl` seconds at most,
-- so a mark whose job was lost is not there for ever; a drain job removes it when it starts).
local function persist_signal(keys, argv)
  local a = args(argv)
  if #a.members > 0 then redis.call('SADD', keys[1], unpack(a.members)) end
  if not redis.call('SET', keys[2], a.id, 'NX', 'EX', a.ttl) then return 0 end
  enqueue(keys[3], keys[4], keys[5], a.id, argv)
  return 1
end

register{'ratelimit_reserve', ratelimit_reserve,
          'presence_leave', presence_leave, 'rq_enqueue', rq_enqueue,
          'persist_signal', persist_signal}
