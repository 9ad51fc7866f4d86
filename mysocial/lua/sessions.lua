-- Sessions (mysocial.sessions.cache).

-- session_rotate(session:<id>; {generation, now, grace_ms, expires})
--   -> {'rotated', new generation} | {'grace', current generation} | {'reused', current generation}
--    | REFUSED missing
-- Spend the refresh token of `generation`: if it is the current one, the session moves to the
-- next generation (and lives until `expires`); a token rotated within the last `grace_ms` answers
-- the current generation (concurrent refreshes agree); any other is a reuse (the caller ends
-- the session). Called again, a rotation answers 'grace'.
local function session_rotate(keys, argv)
  local a = args(argv)
  if redis.call('EXISTS', keys[1]) == 0 then return refuse('missing', keys[1]) end
  local current = tonumber(redis.call('HGET', keys[1], 'refreshGen')) or 0
  if a.generation == current then
    redis.call('HSET', keys[1], 'refreshGen', current + 1, 'rotatedAt', a.now, 'lastUsedAt', a.now,
               'expiresAt', a.expires)
    return {'rotated', current + 1}
  end
  local rotated = tonumber(redis.call('HGET', keys[1], 'rotatedAt')) or 0
  if a.generation == current - 1 and a.now - rotated <= a.grace_ms then return {'grace', current} end
  return {'reused', current}
end

register{'session_rotate', session_rotate}
