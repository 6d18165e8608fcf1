package resilience

import (
	"context"
	"time"

	"github.com/engram-memory/engram/ports"
)

// IdempotencyStore guards an Idempotency-Key store. Begin is not retried:
// a claim that landed but whose answer was lost would make the retry see
// its own claim and answer 409 to the request that holds it. Finish and
// Abandon overwrite or delete one key, so they retry.
type IdempotencyStore struct {
	next ports.IdempotencyStore
	p    *Policy
}

// NewIdempotencyStore decorates next with p.
func NewIdempotencyStore(next ports.IdempotencyStore, p *Policy) *IdempotencyStore {
	return &IdempotencyStore{next: next, p: p}
}

type begun struct {
	rec     ports.IdempotencyRecord
	claimed bool
}

func (s *IdempotencyStore) Begin(ctx context.Context, scope, key, fingerprint string, lock time.Duration) (ports.IdempotencyRecord, bool, error) {
	r, err := do(ctx, s.p, "idempotency_begin", false, func(ctx context.Context) (begun, error) {
		rec, ok, err := s.next.Begin(ctx, scope, key, fingerprint, lock)
		return begun{rec, ok}, err
	})
	return r.rec, r.claimed, err
}

func (s *IdempotencyStore) Finish(ctx context.Context, scope, key string, rec ports.IdempotencyRecord, ttl time.Duration) error {
	_, err := do(ctx, s.p, "idempotency_finish", true, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.next.Finish(ctx, scope, key, rec, ttl)
	})
	return err
}

func (s *IdempotencyStore) Abandon(ctx context.Context, scope, key string) error {
	_, err := do(ctx, s.p, "idempotency_abandon", true, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.next.Abandon(ctx, scope, key)
	})
	return err
}
