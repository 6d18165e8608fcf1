package telemetry

import (
	"context"
	"time"

	"github.com/engram-memory/engram/ports"
)

// IdempotencyStore traces and measures an Idempotency-Key store.
type IdempotencyStore struct {
	next ports.IdempotencyStore
	t    *T
	dep  string
}

// IdempotencyStore decorates next.
func (t *T) IdempotencyStore(dep string, next ports.IdempotencyStore) *IdempotencyStore {
	return &IdempotencyStore{next: next, t: t, dep: dep}
}

type begun struct {
	rec     ports.IdempotencyRecord
	claimed bool
}

func (s *IdempotencyStore) Begin(ctx context.Context, scope, key, fingerprint string, lock time.Duration) (ports.IdempotencyRecord, bool, error) {
	r, err := call(ctx, s.t, s.dep, "idempotency_begin", func(ctx context.Context) (begun, error) {
		rec, ok, err := s.next.Begin(ctx, scope, key, fingerprint, lock)
		return begun{rec, ok}, err
	})
	return r.rec, r.claimed, err
}

func (s *IdempotencyStore) Finish(ctx context.Context, scope, key string, rec ports.IdempotencyRecord, ttl time.Duration) error {
	return run(ctx, s.t, s.dep, "idempotency_finish", func(ctx context.Context) error { return s.next.Finish(ctx, scope, key, rec, ttl) })
}

func (s *IdempotencyStore) Abandon(ctx context.Context, scope, key string) error {
	return run(ctx, s.t, s.dep, "idempotency_abandon", func(ctx context.Context) error { return s.next.Abandon(ctx, scope, key) })
}
