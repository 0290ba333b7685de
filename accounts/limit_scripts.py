"""The two Redis scripts: admit (check everything, then take everything) and release.

Each runs atomically inside Redis, so an admission is one round trip and no other worker can
slip between the check and the increment. They follow ``rate_window`` and
``MemoryLimitStore`` step for step; the tests run the same cases against both. The clock is
Redis' own (``TIME``), so workers on machines with skewed clocks still share one window.

Layout, per scope i (the key, then its tenant), -1 meaning "no such limit":
  KEYS    rate (both per-minute TATs, "<requests> <tokens>"), leases (zset id → deadline: the
          request slots max_concurrent counts), budget (hash: used, r:<id> = reserved),
          reservations (zset id → deadline of each budget reservation) — the same four for both
          scripts. Slots and reservations have a zset each: a request admitted in two steps
          (a slot, then a reservation) counts once against max_concurrent.
  admit   ARGV admission_id, tokens, lease_ms, scope_count,
               then per scope rpm, tpm, max_concurrent, budget, budget_ttl_s
          (a slot is leased when max_concurrent >= 0, a reservation when budget >= 0)
          → {0, kind, scope_index, limit, retry_ms}  kind 1 requests, 2 tokens, 3 concurrency, 4 budget
          → {1, req_limit, req_remaining, req_reset_ms, tok_limit, tok_remaining, tok_reset_ms}
  renew   KEYS the leases (slot) sets of one tenant's scopes, ARGV admission_id, lease_ms
          (a lease no longer there — released, purged, Redis restarted — is not brought back)
  release ARGV admission_id, reserved_tokens, used_tokens, scope_count,
               then per scope tpm, has_budget, tracks_leases,
               then settle_only_reserved (1: a budget whose reservation is gone is left alone)
"""

from __future__ import annotations

from typing import Final

KEYS_PER_SCOPE: Final = 4
ADMIT_ARGS_PER_SCOPE: Final = 5
RELEASE_ARGS_PER_SCOPE: Final = 3

_PRELUDE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local WINDOW = 60000
local function read_tats(key)
  local both = redis.call('GET', key)
  if not both then return {0, 0} end
  local requests, tokens = string.match(both, '^(%S+) (%S+)$')
  return {tonumber(requests), tonumber(tokens)}
end
local function write_tats(key, tats)
  local last = math.max(tats[1], tats[2])
  if last <= now then
    redis.call('DEL', key)
  else
    redis.call('SET', key, string.format('%.3f %.3f', tats[1], tats[2]), 'PX', math.ceil(last - now) + 1000)
  end
end
"""

ADMIT: Final = (
    _PRELUDE
    + """
local id = ARGV[1]
local tokens = tonumber(ARGV[2])
local lease_ms = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
local function arg(i, j) return tonumber(ARGV[4 + (i - 1) * 5 + j]) end
local function key(i, j) return KEYS[(i - 1) * 4 + j] end

-- Leases of requests whose release never came: stop counting their slots, give their budget
-- reservations back. Only looked at when a limit would refuse: until then they cannot change
-- a decision.
local function purge(i)
  if arg(i, 3) >= 0 then redis.call('ZREMRANGEBYSCORE', key(i, 2), '-inf', now) end
  if arg(i, 4) < 0 then return end
  local expired = redis.call('ZRANGEBYSCORE', key(i, 4), '-inf', now)
  if #expired == 0 then return end
  for _, lease in ipairs(expired) do
    local reserved = redis.call('HGET', key(i, 3), 'r:' .. lease)
    if reserved then
      redis.call('HINCRBY', key(i, 3), 'used', -tonumber(reserved))
      redis.call('HDEL', key(i, 3), 'r:' .. lease)
    end
  end
  redis.call('ZREMRANGEBYSCORE', key(i, 4), '-inf', now)
end
-- A zset of deadlines lives at least as long as what it guards (never shortened by another).
local function keep_for(name, ms)
  if redis.call('PTTL', name) < ms then redis.call('PEXPIRE', name, ms) end
end
local function budget_spent(i, limit)
  return tonumber(redis.call('HGET', key(i, 3), 'used') or '0') >= limit
end
local function slots_taken(i, limit)
  return redis.call('ZCARD', key(i, 2)) >= limit
end

-- Check everything first: budgets, then requests in flight, then the per-minute windows.
for i = 1, n do
  local limit = arg(i, 4)
  if limit >= 0 and budget_spent(i, limit) then
    purge(i)
    if budget_spent(i, limit) then return {0, 4, i, limit, 0} end
  end
end
for i = 1, n do
  local limit = arg(i, 3)
  if limit >= 0 and slots_taken(i, limit) then
    purge(i)
    if slots_taken(i, limit) then return {0, 3, i, limit, 1000} end
  end
end
local tats = {}
local tightest = {}
for i = 1, n do
  if arg(i, 1) >= 0 or arg(i, 2) >= 0 then tats[i] = read_tats(key(i, 1)) end
end
for kind = 1, 2 do
  local amount = 1
  if kind == 2 then amount = tokens end
  for i = 1, n do
    local limit = arg(i, kind)
    if limit == 0 then return {0, kind, i, 0, WINDOW} end
    if limit > 0 then
      local new_tat = math.max(tats[i][kind], now) + math.min(amount, limit) * WINDOW / limit
      local over = new_tat - now - WINDOW
      if over > 0 then return {0, kind, i, limit, math.ceil(over)} end
      tats[i][kind] = new_tat
      local busy = math.max(new_tat - now, 0)
      local remaining = math.max(math.floor((WINDOW - busy) * limit / WINDOW + 1e-3), 0)
      local reset = math.ceil(busy)
      local best = tightest[kind]
      if best == nil or remaining < best[2] or (remaining == best[2] and reset > best[3]) then
        tightest[kind] = {limit, remaining, reset}
      end
    end
  end
end

-- Everything passed: take it all.
for i = 1, n do
  if tats[i] then write_tats(key(i, 1), tats[i]) end
  if arg(i, 3) >= 0 then
    redis.call('ZADD', key(i, 2), now + lease_ms, id)
    keep_for(key(i, 2), lease_ms + 1000)
  end
  if arg(i, 4) >= 0 then
    -- As long as the budget counter: a reservation given back after its lease needs its deadline.
    redis.call('ZADD', key(i, 4), now + lease_ms, id)
    keep_for(key(i, 4), math.max(lease_ms + 1000, arg(i, 5) * 1000))
    redis.call('HSET', key(i, 3), 'r:' .. id, tokens)
    if redis.call('HINCRBY', key(i, 3), 'used', tokens) == tokens then
      -- A new period's counter (or one back at zero): make sure it goes away after its period.
      redis.call('EXPIRE', key(i, 3), arg(i, 5))
    end
  end
end
local r = tightest[1] or {-1, -1, -1}
local t = tightest[2] or {-1, -1, -1}
return {1, r[1], r[2], r[3], t[1], t[2], t[3]}
"""
)

RELEASE: Final = (
    _PRELUDE
    + """
local id = ARGV[1]
local reserved_tokens = tonumber(ARGV[2])
local used = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
local function arg(i, j) return tonumber(ARGV[4 + (i - 1) * 3 + j]) end
local function key(i, j) return KEYS[(i - 1) * 4 + j] end
local only_reserved = tonumber(ARGV[4 + n * 3 + 1] or '0') == 1

for i = 1, n do
  if arg(i, 3) == 1 then
    redis.call('ZREM', key(i, 2), id)
    redis.call('ZREM', key(i, 4), id)
  end
  local reserved = nil
  if arg(i, 2) == 1 then reserved = redis.call('HGET', key(i, 3), 'r:' .. id) end
  if arg(i, 2) == 1 and redis.call('EXISTS', key(i, 3)) == 1 and (reserved or not only_reserved) then
    -- No reservation left means its lease expired and gave it back: charge the usage whole.
    local delta = used - tonumber(reserved or '0')
    if reserved then redis.call('HDEL', key(i, 3), 'r:' .. id) end
    if delta ~= 0 then redis.call('HINCRBY', key(i, 3), 'used', delta) end
  end
  local tpm = arg(i, 1)
  if tpm > 0 then
    local delta = used - math.min(reserved_tokens, tpm)
    if delta ~= 0 then
      local tats = read_tats(key(i, 1))
      tats[2] = math.max(math.max(tats[2], now) + delta * WINDOW / tpm, now)
      write_tats(key(i, 1), tats)
    end
  end
end
return 1
"""
)

RENEW: Final = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local lease_ms = tonumber(ARGV[2])
for _, name in ipairs(KEYS) do
  if redis.call('ZADD', name, 'XX', 'CH', now + lease_ms, ARGV[1]) == 1 then
    if redis.call('PTTL', name) < lease_ms + 1000 then redis.call('PEXPIRE', name, lease_ms + 1000) end
  end
end
return 1
"""
