package valkeystore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.IdempotencyStore = (*Store)(nil)

// claimKey claims a free key (SET PX) unless its user's ledger (quota.go)
// is at the quota, and books the claim.
// KEYS: record, ledger h, ledger z. ARGV: claim, lock ms, quota bytes (0:
// none), ledger entry. Returns 1 claimed, 0 held, -2 (overQuota) refused.
var claimKey = valkey.NewLuaScript(ledgerPrelude + `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local used = prune(KEYS[2], KEYS[3])
local quota = tonumber(ARGV[3])
if quota > 0 and used + #ARGV[1] > quota then return -2 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
set(KEYS[2], KEYS[3], ARGV[4], #ARGV[1], tonumber(ARGV[2]))
return 1
`)

// finishKey writes a finished record and books its bytes; abandonKey (an
// empty record) deletes it and its entry. Neither is refused: the quota is
// checked when a request claims its key, so a user can pass it by at most
// the records of the requests already running.
// KEYS: record, ledger h, ledger z. ARGV: record ("" deletes), ttl ms,
// ledger entry.
var finishKey = valkey.NewLuaScript(ledgerPrelude + `
prune(KEYS[2], KEYS[3])
if ARGV[1] == '' then
  redis.call('DEL', KEYS[1])
  set(KEYS[2], KEYS[3], ARGV[3], 0, 0)
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
set(KEYS[2], KEYS[3], ARGV[3], #ARGV[1], tonumber(ARGV[2]))
return 1
`)

// Begin implements ports.IdempotencyStore with a script that claims only a
// free key (the server picks the one claimer among racing engramd
// processes) and only under the user's byte quota. When the key is held, a
// GET returns the record; if it expired between the two commands, the claim
// is tried once more.
func (s *Store) Begin(ctx context.Context, scope, key, fingerprint string, lock time.Duration) (ports.IdempotencyRecord, bool, error) {
	if err := ports.CheckIdempotency(scope, key, lock); err != nil {
		return ports.IdempotencyRecord{}, false, fmt.Errorf("valkeystore: idempotency begin: %w", err)
	}
	if fingerprint == "" {
		return ports.IdempotencyRecord{}, false, fmt.Errorf("valkeystore: idempotency begin: %w", domain.Invalid("fingerprint", "must not be empty"))
	}
	rec := ports.IdempotencyRecord{Fingerprint: fingerprint}
	claim, err := json.Marshal(rec)
	if err != nil {
		return ports.IdempotencyRecord{}, false, fmt.Errorf("valkeystore: idempotency begin: %w", err)
	}
	k, entry := s.idemKey(scope, key)
	h, z := s.ledgerKeys(scope)
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	for range 2 {
		n, err := claimKey.Exec(ctx, s.c, []string{k, h, z}, []string{string(claim),
			strconv.FormatInt(max(1, lock.Milliseconds()), 10), strconv.FormatInt(s.o.MaxBytesPerUser, 10), entry}).AsInt64()
		switch err = mapErr(err); {
		case err != nil:
			return ports.IdempotencyRecord{}, false, fmt.Errorf("valkeystore: idempotency claim: %w", err)
		case n == 1:
			return rec, true, nil
		case n == overQuota:
			return ports.IdempotencyRecord{}, false, fmt.Errorf("valkeystore: idempotency begin: %w", s.quotaError())
		}
		res := s.c.DoMulti(ctx, s.c.B().Get().Key(k).Build(), s.c.B().Pttl().Key(k).Build())
		raw, err := res[0].AsBytes()
		switch err = mapErr(err); {
		case errors.Is(err, errNil):
			continue // expired since the SET: claim again
		case err != nil:
			return ports.IdempotencyRecord{}, false, fmt.Errorf("valkeystore: idempotency read: %w", err)
		}
		var held ports.IdempotencyRecord
		if err := json.Unmarshal(raw, &held); err != nil {
			return ports.IdempotencyRecord{}, false, fmt.Errorf("valkeystore: idempotency record %s: %w", k, &domain.UnavailableError{Dependency: "valkey", Err: err})
		}
		if ms, err := res[1].AsInt64(); err == nil && ms > 0 && !held.Done {
			held.LockedFor = time.Duration(ms) * time.Millisecond
		} else if !held.Done {
			held.LockedFor = time.Millisecond // expiring as we speak
		}
		return held, false, nil
	}
	return ports.IdempotencyRecord{}, false, fmt.Errorf("valkeystore: idempotency begin: key flapping: %w", &domain.UnavailableError{Dependency: "valkey", RetryAfter: 1})
}

// renewClaim extends a key's expiry only while it still holds the claim
// (byte for byte), so a finished record's 24 h is never cut short.
// KEYS: record, ledger h, ledger z. ARGV: claim, lock ms, ledger entry.
var renewClaim = valkey.NewLuaScript(ledgerPrelude + `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  prune(KEYS[2], KEYS[3])
  set(KEYS[2], KEYS[3], ARGV[3], #ARGV[1], tonumber(ARGV[2]))
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`)

// Renew implements ports.IdempotencyStore: a claim is the JSON Begin wrote,
// so comparing bytes tells a running claim for fingerprint from anything
// else.
func (s *Store) Renew(ctx context.Context, scope, key, fingerprint string, lock time.Duration) (bool, error) {
	if err := ports.CheckIdempotency(scope, key, lock); err != nil {
		return false, fmt.Errorf("valkeystore: idempotency renew: %w", err)
	}
	claim, err := json.Marshal(ports.IdempotencyRecord{Fingerprint: fingerprint})
	if err != nil {
		return false, fmt.Errorf("valkeystore: idempotency renew: %w", err)
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	k, entry := s.idemKey(scope, key)
	h, z := s.ledgerKeys(scope)
	n, err := renewClaim.Exec(ctx, s.c, []string{k, h, z},
		[]string{string(claim), strconv.FormatInt(max(1, lock.Milliseconds()), 10), entry}).AsInt64()
	if err := mapErr(err); err != nil {
		return false, fmt.Errorf("valkeystore: idempotency renew: %w", err)
	}
	return n == 1, nil
}

// Finish implements ports.IdempotencyStore.
func (s *Store) Finish(ctx context.Context, scope, key string, rec ports.IdempotencyRecord, ttl time.Duration) error {
	if err := ports.CheckIdempotency(scope, key, ttl); err != nil {
		return fmt.Errorf("valkeystore: idempotency finish: %w", err)
	}
	if rec.Fingerprint == "" {
		return fmt.Errorf("valkeystore: idempotency finish: %w", domain.Invalid("fingerprint", "must not be empty"))
	}
	rec.Done = true
	raw, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("valkeystore: idempotency finish: %w", err)
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	if err := s.writeRecord(ctx, scope, key, string(raw), ttl); err != nil {
		return fmt.Errorf("valkeystore: idempotency finish: %w", err)
	}
	return nil
}

// Abandon implements ports.IdempotencyStore.
func (s *Store) Abandon(ctx context.Context, scope, key string) error {
	if err := ports.CheckIdempotency(scope, key, time.Second); err != nil {
		return fmt.Errorf("valkeystore: idempotency abandon: %w", err)
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	if err := s.writeRecord(ctx, scope, key, "", 0); err != nil {
		return fmt.Errorf("valkeystore: idempotency abandon: %w", err)
	}
	return nil
}

// writeRecord runs finishKey: raw "" deletes the record.
func (s *Store) writeRecord(ctx context.Context, scope, key, raw string, ttl time.Duration) error {
	k, entry := s.idemKey(scope, key)
	h, z := s.ledgerKeys(scope)
	return mapErr(finishKey.Exec(ctx, s.c, []string{k, h, z},
		[]string{raw, strconv.FormatInt(max(1, ttl.Milliseconds()), 10), entry}).Error())
}
