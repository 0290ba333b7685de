"""The two Redis scripts: admit (check everything, then take everything) and release.

Each runs atomically inside Redis, so an admission is one round trip and no other worker can
slip between the check and the increment. They follow ``rate_window`` and
``MemoryLimitStore`` step for step; the tests run the same cases against both. The clock is
Redis' own (``TIME``), so workers on machines with skewed clocks still share one window.

Layout, per scope i (the key, then its tenant), -1 meaning "no such limit":
  admit   KEYS rpm, tpm, leases, budget   ARGV rpm, tpm, max_concurrent, budget, budget_ttl_s, tracks_leases
          after ARGV admission_id, tokens, lease_ms, scope_count
          → {0, kind, scope_index, limit, retry_ms}  kind 1 requests, 2 tokens, 3 concurrency, 4 budget
          → {1, req_limit, req_remaining, req_reset_ms, tok_limit, tok_remaining, tok_reset_ms}
  release KEYS tpm, leases, budget        ARGV tpm, has_budget, tracks_leases
          after ARGV admission_id, reserved_tokens, used_tokens, scope_count
"""

from __future__ import annotations

from typing import Final

ADMIT_KEYS_PER_SCOPE: Final = 4
ADMIT_ARGS_PER_SCOPE: Final = 6
RELEASE_KEYS_PER_SCOPE: Final = 3
RELEASE_ARGS_PER_SCOPE: Final = 3

_PRELUDE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local WINDOW = 60000
"""

ADMIT: Final = _PRELUDE + """
local id = ARGV[1]
local tokens = tonumber(ARGV[2])
local lease_ms = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
local function arg(i, j) return tonumber(ARGV[4 + (i - 1) * 6 + j]) end
local function key(i, j) return KEYS[(i - 1) * 4 + j] end

-- Leases of requests whose release never came: stop counting them, give their budget back.
for i = 1, n do
  if arg(i, 6) == 1 then
    local expired = redis.call('ZRANGEBYSCORE', key(i, 3), '-inf', now)
    if #expired > 0 then
      if arg(i, 4) >= 0 then
        for _, lease in ipairs(expired) do
          local reserved = redis.call('HGET', key(i, 4), 'r:' .. lease)
          if reserved then
            redis.call('HINCRBY', key(i, 4), 'used', -tonumber(reserved))
            redis.call('HDEL', key(i, 4), 'r:' .. lease)
          end
        end
      end
      redis.call('ZREMRANGEBYSCORE', key(i, 3), '-inf', now)
    end
  end
end

-- Check everything first: budgets, then requests in flight, then the per-minute windows.
for i = 1, n do
  local limit = arg(i, 4)
  if limit >= 0 and tonumber(redis.call('HGET', key(i, 4), 'used') or '0') >= limit then
    return {0, 4, i, limit, 0}
  end
end
for i = 1, n do
  local limit = arg(i, 3)
  if limit >= 0 and redis.call('ZCARD', key(i, 3)) >= limit then
    return {0, 3, i, limit, 1000}
  end
end
local taken = {}
local tightest = {}
for kind = 1, 2 do
  local amount = 1
  if kind == 2 then amount = tokens end
  for i = 1, n do
    local limit = arg(i, kind)
    if limit == 0 then return {0, kind, i, 0, WINDOW} end
    if limit > 0 then
      local tat = tonumber(redis.call('GET', key(i, kind)) or '0')
      local new_tat = math.max(tat, now) + math.min(amount, limit) * WINDOW / limit
      local over = new_tat - now - WINDOW
      if over > 0 then return {0, kind, i, limit, math.ceil(over)} end
      taken[#taken + 1] = {key(i, kind), new_tat}
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
for _, item in ipairs(taken) do
  redis.call('SET', item[1], string.format('%.3f', item[2]), 'PX', math.ceil(item[2] - now) + 1000)
end
for i = 1, n do
  if arg(i, 6) == 1 then
    redis.call('ZADD', key(i, 3), now + lease_ms, id)
    redis.call('PEXPIRE', key(i, 3), lease_ms + 1000)
  end
  if arg(i, 4) >= 0 then
    redis.call('HINCRBY', key(i, 4), 'used', tokens)
    redis.call('HSET', key(i, 4), 'r:' .. id, tokens)
    redis.call('EXPIRE', key(i, 4), arg(i, 5))
  end
end
local r = tightest[1] or {-1, -1, -1}
local t = tightest[2] or {-1, -1, -1}
return {1, r[1], r[2], r[3], t[1], t[2], t[3]}
"""

RELEASE: Final = _PRELUDE + """
local id = ARGV[1]
local reserved_tokens = tonumber(ARGV[2])
local used = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
local function arg(i, j) return tonumber(ARGV[4 + (i - 1) * 3 + j]) end
local function key(i, j) return KEYS[(i - 1) * 3 + j] end

for i = 1, n do
  if arg(i, 3) == 1 then
    redis.call('ZREM', key(i, 2), id)
  end
  if arg(i, 2) == 1 and redis.call('EXISTS', key(i, 3)) == 1 then
    -- No reservation left means its lease expired and gave it back: charge the usage whole.
    local reserved = redis.call('HGET', key(i, 3), 'r:' .. id)
    local delta = used - tonumber(reserved or '0')
    if reserved then redis.call('HDEL', key(i, 3), 'r:' .. id) end
    if delta ~= 0 then redis.call('HINCRBY', key(i, 3), 'used', delta) end
  end
  local tpm = arg(i, 1)
  if tpm > 0 then
    local delta = used - math.min(reserved_tokens, tpm)
    if delta ~= 0 then
      local tat = tonumber(redis.call('GET', key(i, 1)) or '0')
      local moved = math.max(math.max(tat, now) + delta * WINDOW / tpm, now)
      if moved > now then
        redis.call('SET', key(i, 1), string.format('%.3f', moved), 'PX', math.ceil(moved - now) + 1000)
      else
        redis.call('DEL', key(i, 1))
      end
    end
  end
end
return 1
"""
