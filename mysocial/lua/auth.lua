-- Accounts (mysocial.auth.cache).

-- auth_claim(auth:usernames, auth:emails; {username, email, authId}) -> 1 | false
-- Reserve a (lower-cased) username and an e-mail together, or neither.
local function auth_claim(keys, argv)
  local a = args(argv)
  if redis.call('HEXISTS', keys[1], a.username) == 1 or redis.call('HEXISTS', keys[2], a.email) == 1 then
    return false
  end
  redis.call('HSET', keys[1], a.username, a.authId)
  redis.call('HSET', keys[2], a.email, a.authId)
  return 1
end

register{'auth_claim', auth_claim}
