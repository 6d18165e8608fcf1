package valkeystore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/engram-memory/engram/ports"
)

// tokenBucket takes cost tokens from the bucket in KEYS[1] if it has them.
// Time comes from the server (TIME), so every engramd shares one clock; with
// effects replication (the default since Redis 5, the only mode in 7) a
// replica stores the written values, not a re-run of TIME. Tokens are kept
// as a float so that refill is exact at any rate; times are microseconds.
// The key expires once the bucket would be full again: a missing key is a
// full bucket, so memory holds only buckets in use.
//
// ARGV: burst, period in microseconds, cost.
// Returns {allowed 0|1, whole tokens left, µs until full, µs until cost available}.
var tokenBucket = valkey.NewLuaScript(`
local burst = tonumber(ARGV[1])
local per = tonumber(ARGV[2]) / burst
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local st = redis.call('HMGET', KEYS[1], 'tk', 'ts')
local tokens = tonumber(st[1])
local ts = tonumber(st[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
elseif now > ts then
  tokens = tokens + (now - ts) / per
  ts = now
end
if tokens > burst then tokens = burst end
local allowed = 0
local retry = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  retry = math.ceil((cost - tokens) * per)
end
local reset = math.ceil((burst - tokens) * per)
redis.call('HSET', KEYS[1], 'tk', string.format('%.17g', tokens), 'ts', string.format('%d', ts))
redis.call('PEXPIRE', KEYS[1], math.ceil(reset / 1000) + 1000)
return {allowed, math.floor(tokens), reset, retry}
`)

// Allow implements ports.RateLimiter with one script call.
func (s *Store) Allow(ctx context.Context, key string, limit ports.RateLimit, cost int) (ports.RateDecision, error) {
	if err := limit.Check(key, cost); err != nil {
		return ports.RateDecision{}, fmt.Errorf("valkeystore: allow: %w", err)
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	args := []string{
		strconv.Itoa(limit.Burst),
		strconv.FormatInt(max(1, limit.Period.Microseconds()), 10),
		strconv.Itoa(cost),
	}
	vals, err := tokenBucket.Exec(ctx, s.c, []string{s.o.Prefix + ":rl:" + key}, args).AsIntSlice()
	if err != nil {
		return ports.RateDecision{}, fmt.Errorf("valkeystore: allow: %w", mapErr(err))
	}
	if len(vals) != 4 {
		return ports.RateDecision{}, fmt.Errorf("valkeystore: allow: %w", mapErr(fmt.Errorf("token bucket script returned %d values", len(vals))))
	}
	return ports.RateDecision{
		Allowed:    vals[0] == 1,
		Limit:      limit.Burst,
		Remaining:  int(vals[1]),
		Reset:      time.Duration(vals[2]) * time.Microsecond,
		RetryAfter: time.Duration(vals[3]) * time.Microsecond,
	}, nil
}
