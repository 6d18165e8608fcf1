package valkeystore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

// Begin implements ports.IdempotencyStore with SET NX PX: the server picks
// the one claimer among racing engramd processes. When the key is held, a
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
	k := s.idemKey(scope, key)
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	for range 2 {
		err := mapErr(s.c.Do(ctx, s.c.B().Set().Key(k).Value(string(claim)).Nx().PxMilliseconds(max(1, lock.Milliseconds())).Build()).Error())
		switch {
		case err == nil:
			return rec, true, nil
		case !errors.Is(err, errNil):
			return ports.IdempotencyRecord{}, false, fmt.Errorf("valkeystore: idempotency claim: %w", err)
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
var renewClaim = valkey.NewLuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
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
	n, err := renewClaim.Exec(ctx, s.c, []string{s.idemKey(scope, key)},
		[]string{string(claim), strconv.FormatInt(max(1, lock.Milliseconds()), 10)}).AsInt64()
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
	if err := mapErr(s.c.Do(ctx, s.c.B().Set().Key(s.idemKey(scope, key)).Value(string(raw)).PxMilliseconds(max(1, ttl.Milliseconds())).Build()).Error()); err != nil {
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
	if err := mapErr(s.c.Do(ctx, s.c.B().Del().Key(s.idemKey(scope, key)).Build()).Error()); err != nil {
		return fmt.Errorf("valkeystore: idempotency abandon: %w", err)
	}
	return nil
}

// idemKey names a record: the scope escaped (it is built from validated
// tenant ids, so it is bounded, and erasure finds a subject's records by
// it) and the key hashed (it comes from clients, may hold any printable
// byte and must not grow the key unbounded). Escaping ':' keeps one
// user's scope from being a prefix of another's.
func (s *Store) idemKey(scope, key string) string {
	h := sha256.Sum256([]byte(key))
	return s.o.Prefix + ":idem:" + escapeKeyPart(scope) + ":" + hex.EncodeToString(h[:])
}
