package valkeystore

import (
	"github.com/engram-memory/engram/domain"
)

// Bytes per user.
//
// Sessions and idempotency records are the Valkey state users fill. Each
// user has a ledger of what they hold, two keys named after the user's
// idempotency scope (ports.IdempotencyScope, so sessions and idempotency
// records of one user share one quota):
//
//	<prefix>:quota:{<scope>}:h  hash: entry -> bytes, and "#" -> the sum
//	<prefix>:quota:{<scope>}:z  sorted set: entry -> when it expires (unix ms)
//
// An entry is "s:<session id>" or "i:<hashed key>". The scripts that write
// a session or a record update its entry in the same script, so the count
// and the data never disagree; they read the clock with TIME, so every
// engramd uses Valkey's. Expiry needs no notification: every ledger script
// first drops the entries whose time has passed (the records expired with
// them) and subtracts their bytes, and the ledger itself expires with its
// last entry. A record written before the ledger existed is not counted
// until it is written again; the count never goes below zero.
//
// Valkey Cluster: the ledger, the user's sessions and records share the
// user's hash tag (keys.go), so each script touches one slot.

// ledgerPrelude defines now (ms) and prune(h, z), which drops expired
// entries (at most 1,000 a call, so one call stays short; the rest go next
// time) and returns the sum after dropping.
const ledgerPrelude = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function prune(h, z)
  local gone = redis.call('ZRANGEBYSCORE', z, '-inf', now, 'LIMIT', 0, 1000)
  if #gone > 0 then
    local sizes = redis.call('HMGET', h, unpack(gone))
    local sum = 0
    for i = 1, #sizes do sum = sum + (tonumber(sizes[i]) or 0) end
    redis.call('HDEL', h, unpack(gone))
    redis.call('ZREM', z, unpack(gone))
    if sum ~= 0 then redis.call('HINCRBY', h, '#', -sum) end
  end
  return math.max(0, tonumber(redis.call('HGET', h, '#')) or 0)
end
-- set records entry's size and expiry (ms from now; <= 0 removes it), keeps
-- the sum and makes the ledger expire with its last entry.
local function set(h, z, entry, size, ttl)
  local cur = tonumber(redis.call('HGET', h, entry)) or 0
  if ttl <= 0 then
    redis.call('HDEL', h, entry)
    redis.call('ZREM', z, entry)
    size = 0
  else
    redis.call('HSET', h, entry, size)
    redis.call('ZADD', z, now + ttl, entry)
  end
  local sum = redis.call('HINCRBY', h, '#', size - cur)
  if sum < 0 then redis.call('HSET', h, '#', 0) end
  local last = redis.call('ZRANGE', z, -1, -1, 'WITHSCORES')
  if #last == 0 then
    redis.call('DEL', h, z)
  else
    redis.call('PEXPIREAT', h, tonumber(last[2]) + 1000)
    redis.call('PEXPIREAT', z, tonumber(last[2]) + 1000)
  end
end
`

// overQuota is what a ledger script returns for a write the quota refuses.
const overQuota = -2

// quotaError is the refusal of a write past the quota.
func (s *Store) quotaError() error {
	return &domain.QuotaError{Quota: "Valkey (sessions and idempotency records, ENGRAM_VALKEY_BYTES_PER_USER)",
		Limit: s.o.MaxBytesPerUser, Unit: "bytes", Frees: "ending a session, or waiting for sessions and idempotency records to expire,"}
}

func sessionEntry(sid domain.SessionID) string { return "s:" + string(sid) }

// DefaultMaxBytesPerUser is the default of Options.MaxBytesPerUser: twice
// the in-process session quota (16 MiB), for idempotency records beside
// sessions.
const DefaultMaxBytesPerUser = 32 << 20
