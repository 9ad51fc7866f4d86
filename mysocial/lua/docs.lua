-- Documents: one hash per document, every field JSON (mysocial.core.cache).

-- doc_fill(doc, pending:deleted, gone:<kind>; {member, id, ttl}, fields...) -> 'filled' | 'cached' | 'gone'
-- Put a document read from MongoDB into the cache: never over an entry that is there (a pending
-- write may have put it), never for a document whose delete is pending or recent.
local function doc_fill(keys, argv)
  local a = args(argv)
  if redis.call('EXISTS', keys[1]) == 1 then return 'cached' end
  if redis.call('SISMEMBER', keys[2], a.member) == 1 or redis.call('ZSCORE', keys[3], a.id) then return 'gone' end
  redis.call('HSET', keys[1], unpack(rest(argv, 2)))
  if a.ttl > 0 then redis.call('EXPIRE', keys[1], a.ttl) end
  return 'filled'
end

-- doc_patch(doc; {}, fields...) -> 1 | REFUSED missing
local function doc_patch(keys, argv)
  if redis.call('EXISTS', keys[1]) == 0 then return refuse('missing', keys[1]) end
  redis.call('HSET', keys[1], unpack(rest(argv, 2)))
  return 1
end

-- doc_bump(doc; {field, by}) -> the new value | REFUSED missing
-- Not idempotent on its own: only for counters whose change is decided elsewhere in the same
-- function call (see the callers), or that a retry cannot repeat.
local function doc_bump(keys, argv)
  local a = args(argv)
  if redis.call('EXISTS', keys[1]) == 0 then return refuse('missing', keys[1]) end
  return redis.call('HINCRBY', keys[1], a.field, a.by)
end

-- doc_add(doc, gone:<kind>, parent or doc, indexes...; {id, score}, fields...) -> 1 | REFUSED missing
-- Store a document and list it in `indexes` (no longer gone); the parent (a comment's post)
-- must be cached. The same call again changes nothing.
local function doc_add(keys, argv)
  local a = args(argv)
  if redis.call('EXISTS', keys[3]) == 0 and keys[3] ~= keys[1] then return refuse('missing', keys[3]) end
  redis.call('HSET', keys[1], unpack(rest(argv, 2)))
  redis.call('ZREM', keys[2], a.id)
  for i = 4, #keys do redis.call('ZADD', keys[i], a.score, a.id) end
  return 1
end

-- doc_remove(doc, gone:<kind>, index, counter hash or doc, complete:<index> or doc, other indexes...;
--            {id, now, keep_ms, counter, index_name, unless})
--   -> the counter's new value (or 0 without a counter) | false if it was gone already | REFUSED
-- Delete a document listed in `index` (and the others), remember it as gone for keep_ms, and
-- decrement `counter` (a field of the counter hash) if and only if it was there — and, with
-- `unless` (a field of the document, which must then be cached), only if that field is not true
-- (a comment taken down has left its post's count already). With `index_name`, refused while
-- that index is not complete (its absence would not tell "gone").
local function doc_remove(keys, argv)
  local a = args(argv)
  if given(a.index_name) and not complete(keys[5]) then return refuse('incomplete', a.index_name) end
  if given(a.counter) and redis.call('EXISTS', keys[4]) == 0 then return refuse('missing', keys[4]) end
  local listed = redis.call('ZSCORE', keys[3], a.id)
  if not listed then return false end
  if given(a.unless) and redis.call('EXISTS', keys[1]) == 0 then return refuse('missing', keys[1]) end
  local counted = given(a.counter) and not (given(a.unless) and redis.call('HGET', keys[1], a.unless) == 'true')
  redis.call('ZREM', keys[3], a.id)
  for i = 6, #keys do redis.call('ZREM', keys[i], a.id) end
  redis.call('DEL', keys[1])
  redis.call('ZADD', keys[2], a.now, a.id)
  redis.call('ZREMRANGEBYSCORE', keys[2], '-inf', a.now - a.keep_ms)
  if counted then return redis.call('HINCRBY', keys[4], a.counter, -1) end
  if given(a.counter) then return tonumber(redis.call('HGET', keys[4], a.counter) or '0') end
  return 0
end

register{
  'doc_fill', doc_fill, 'doc_patch', doc_patch, 'doc_bump', doc_bump, 'doc_add', doc_add,
  'doc_remove', doc_remove
}
