package inproc

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// IdempotencyOptions configures an IdempotencyStore. Zero fields take the
// defaults.
type IdempotencyOptions struct {
	MaxKeys int // default 100,000; a full store refuses new keys
	// MaxKeysPerScope bounds one scope's (one principal's) unexpired keys,
	// default 1,000, so that one tenant cannot fill the store every
	// tenant shares: over it, Begin of a new key wraps
	// domain.ErrRateLimited (429) for that scope alone.
	MaxKeysPerScope int
	SweepEvery      time.Duration // default 30s
	Clock           ports.Clock   // default the system clock
}

// IdempotencyStore is a ports.IdempotencyStore in this process's memory,
// for the embedded profile (one process, so no other writer to agree with).
type IdempotencyStore struct {
	clock    ports.Clock
	max      int
	perScope int
	sw       *sweeper

	mu      sync.Mutex
	records map[idemKey]idemEntry
	scopes  map[string]int // unexpired keys per scope
}

type idemKey struct{ scope, key string }

type idemEntry struct {
	rec     ports.IdempotencyRecord
	expires time.Time
}

var _ ports.IdempotencyStore = (*IdempotencyStore)(nil)

// NewIdempotencyStore starts a store and its sweeper; Close stops it.
func NewIdempotencyStore(o IdempotencyOptions) *IdempotencyStore {
	if o.MaxKeys <= 0 {
		o.MaxKeys = 100_000
	}
	if o.MaxKeysPerScope <= 0 {
		o.MaxKeysPerScope = 1_000
	}
	if o.Clock == nil {
		o.Clock = ports.SystemClock{}
	}
	s := &IdempotencyStore{clock: o.Clock, max: o.MaxKeys, perScope: o.MaxKeysPerScope,
		records: make(map[idemKey]idemEntry), scopes: make(map[string]int)}
	s.sw = startSweeper(o.SweepEvery, func() {
		s.mu.Lock()
		s.sweepLocked(s.clock.Now())
		s.mu.Unlock()
	})
	return s
}

// Close stops the sweeper.
func (s *IdempotencyStore) Close() error {
	s.sw.stop()
	return nil
}

func (s *IdempotencyStore) sweepLocked(now time.Time) {
	for k, e := range s.records {
		if !e.expires.After(now) {
			s.deleteLocked(k)
		}
	}
}

// putLocked stores e under k, counting a new key against its scope.
func (s *IdempotencyStore) putLocked(k idemKey, e idemEntry) {
	if _, ok := s.records[k]; !ok {
		s.scopes[k.scope]++
	}
	s.records[k] = e
}

func (s *IdempotencyStore) deleteLocked(k idemKey) {
	if _, ok := s.records[k]; !ok {
		return
	}
	delete(s.records, k)
	if s.scopes[k.scope]--; s.scopes[k.scope] <= 0 {
		delete(s.scopes, k.scope)
	}
}

// Begin implements ports.IdempotencyStore.
func (s *IdempotencyStore) Begin(_ context.Context, scope, key, fingerprint string, lock time.Duration) (ports.IdempotencyRecord, bool, error) {
	if err := ports.CheckIdempotency(scope, key, lock); err != nil {
		return ports.IdempotencyRecord{}, false, fmt.Errorf("inproc: idempotency begin: %w", err)
	}
	if fingerprint == "" {
		return ports.IdempotencyRecord{}, false, fmt.Errorf("inproc: idempotency begin: %w", domain.Invalid("fingerprint", "must not be empty"))
	}
	now := s.clock.Now()
	k := idemKey{scope, key}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.records[k]; ok && e.expires.After(now) {
		if !e.rec.Done {
			e.rec.LockedFor = e.expires.Sub(now)
		}
		return e.rec, false, nil
	}
	if _, held := s.records[k]; !held && s.scopes[scope] >= s.perScope {
		s.sweepLocked(now)
		if s.scopes[scope] >= s.perScope {
			return ports.IdempotencyRecord{}, false, fmt.Errorf("inproc: idempotency begin: %w: this user holds %d unexpired Idempotency-Keys, the most one user may",
				domain.ErrRateLimited, s.perScope)
		}
	}
	if len(s.records) >= s.max {
		s.sweepLocked(now)
		if len(s.records) >= s.max {
			return ports.IdempotencyRecord{}, false, fmt.Errorf("inproc: idempotency begin: %w", &domain.UnavailableError{
				Dependency: "idempotency store", RetryAfter: 1, Err: fmt.Errorf("full with %d unexpired keys", len(s.records)),
			})
		}
	}
	rec := ports.IdempotencyRecord{Fingerprint: fingerprint}
	s.putLocked(k, idemEntry{rec: rec, expires: now.Add(lock)})
	return rec, true, nil
}

// Renew implements ports.IdempotencyStore.
func (s *IdempotencyStore) Renew(_ context.Context, scope, key, fingerprint string, lock time.Duration) (bool, error) {
	if err := ports.CheckIdempotency(scope, key, lock); err != nil {
		return false, fmt.Errorf("inproc: idempotency renew: %w", err)
	}
	now := s.clock.Now()
	k := idemKey{scope, key}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.records[k]
	if !ok || e.rec.Done || e.rec.Fingerprint != fingerprint || !e.expires.After(now) {
		return false, nil
	}
	e.expires = now.Add(lock)
	s.records[k] = e
	return true, nil
}

// Finish implements ports.IdempotencyStore.
func (s *IdempotencyStore) Finish(_ context.Context, scope, key string, rec ports.IdempotencyRecord, ttl time.Duration) error {
	if err := ports.CheckIdempotency(scope, key, ttl); err != nil {
		return fmt.Errorf("inproc: idempotency finish: %w", err)
	}
	if rec.Fingerprint == "" {
		return fmt.Errorf("inproc: idempotency finish: %w", domain.Invalid("fingerprint", "must not be empty"))
	}
	rec.Done = true
	rec.Response.Body = slices.Clone(rec.Response.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putLocked(idemKey{scope, key}, idemEntry{rec: rec, expires: s.clock.Now().Add(ttl)})
	return nil
}

// Abandon implements ports.IdempotencyStore.
func (s *IdempotencyStore) Abandon(_ context.Context, scope, key string) error {
	if err := ports.CheckIdempotency(scope, key, time.Second); err != nil {
		return fmt.Errorf("inproc: idempotency abandon: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteLocked(idemKey{scope, key})
	return nil
}
