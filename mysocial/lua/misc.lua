-- Small functions of core modules: rate limits, presence, RQ's enqueue.

-- ratelimit_count(counter; {window}) -> the count (the counter expires with its window)
local function ratelimit_count(keys, argv)
  local a = args(argv)
  local n = redis.call('INCR', keys[1])
  if n == 1 then redis.call('EXPIRE', keys[1], a.window) end
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
local function rq_enqueue(keys, argv)
  local a = args(argv)
  redis.call('SADD', keys[1], keys[3])
  redis.call('HSET', keys[2], unpack(rest(argv, 2)))
  redis.call('RPUSH', keys[3], a.id)
  return 1
end

register{'ratelimit_count', ratelimit_count, 'presence_leave', presence_leave, 'rq_enqueue', rq_enqueue}
