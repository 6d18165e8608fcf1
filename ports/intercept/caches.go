package intercept

import (
	"context"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// WrapReplay decorates the DPoP replay cache. Remember is never retried: a
// lost reply would make the retry see its own key and refuse a good proof.
func WrapReplay(next ports.ReplayCache, dep string, ic Interceptor) ports.ReplayCache {
	return replay{base{dep, ic}, next}
}

type replay struct {
	base
	next ports.ReplayCache
}

func (r replay) Remember(ctx context.Context, key string, until time.Time) (fresh bool, err error) {
	err = r.do(ctx, "remember", write, func(ctx context.Context) (e error) { fresh, e = r.next.Remember(ctx, key, until); return })
	return fresh, err
}

// WrapLimiter decorates the rate limiter; Allow spends tokens and is never
// retried.
func WrapLimiter(next ports.RateLimiter, dep string, ic Interceptor) ports.RateLimiter {
	return limiter{base{dep, ic}, next}
}

type limiter struct {
	base
	next ports.RateLimiter
}

func (l limiter) Allow(ctx context.Context, key string, limit ports.RateLimit, cost int) (d ports.RateDecision, err error) {
	err = l.do(ctx, "allow", write, func(ctx context.Context) (e error) { d, e = l.next.Allow(ctx, key, limit, cost); return })
	return d, err
}

// WrapSessions decorates the session store; Append and End are never
// retried.
func WrapSessions(next ports.SessionStore, dep string, ic Interceptor) ports.SessionStore {
	return sessions{base{dep, ic}, next}
}

type sessions struct {
	base
	next ports.SessionStore
}

func (s sessions) Append(ctx context.Context, t domain.Tenant, sid domain.SessionID, e domain.SessionEvent) (out domain.SessionEvent, err error) {
	err = s.do(ctx, "append", write, func(ctx context.Context) (er error) { out, er = s.next.Append(ctx, t, sid, e); return })
	return out, err
}

func (s sessions) Recent(ctx context.Context, t domain.Tenant, sid domain.SessionID, n int) (out []domain.SessionEvent, err error) {
	err = s.do(ctx, "recent", read, func(ctx context.Context) (e error) { out, e = s.next.Recent(ctx, t, sid, n); return })
	return out, err
}

func (s sessions) Events(ctx context.Context, t domain.Tenant, sid domain.SessionID, ids []string) (out []domain.SessionEvent, err error) {
	err = s.do(ctx, "events", read, func(ctx context.Context) (e error) { out, e = s.next.Events(ctx, t, sid, ids); return })
	return out, err
}

func (s sessions) FindMention(ctx context.Context, t domain.Tenant, sid domain.SessionID, term string) (out domain.SessionEvent, err error) {
	err = s.do(ctx, "find_mention", read, func(ctx context.Context) (e error) { out, e = s.next.FindMention(ctx, t, sid, term); return })
	return out, err
}

func (s sessions) End(ctx context.Context, t domain.Tenant, sid domain.SessionID) error {
	return s.do(ctx, "end", write, func(ctx context.Context) error { return s.next.End(ctx, t, sid) })
}

func (s sessions) List(ctx context.Context, t domain.Tenant, limit int) (out []domain.SessionSummary, err error) {
	err = s.do(ctx, "list", read, func(ctx context.Context) (e error) { out, e = s.next.List(ctx, t, limit); return })
	return out, err
}

// WrapIdempotency decorates the Idempotency-Key store. Begin claims a key
// and is never retried; Finish and Abandon set a known state and are.
func WrapIdempotency(next ports.IdempotencyStore, dep string, ic Interceptor) ports.IdempotencyStore {
	return idempotency{base{dep, ic}, next}
}

type idempotency struct {
	base
	next ports.IdempotencyStore
}

func (s idempotency) Begin(ctx context.Context, scope, key, fingerprint string, lock time.Duration) (rec ports.IdempotencyRecord, claimed bool, err error) {
	err = s.do(ctx, "idempotency_begin", write, func(ctx context.Context) (e error) {
		rec, claimed, e = s.next.Begin(ctx, scope, key, fingerprint, lock)
		return
	})
	return rec, claimed, err
}

// Renew extends one key's expiry, so it may be retried.
func (s idempotency) Renew(ctx context.Context, scope, key, fingerprint string, lock time.Duration) (ok bool, err error) {
	err = s.do(ctx, "idempotency_renew", read, func(ctx context.Context) (e error) {
		ok, e = s.next.Renew(ctx, scope, key, fingerprint, lock)
		return
	})
	return ok, err
}

func (s idempotency) Finish(ctx context.Context, scope, key string, rec ports.IdempotencyRecord, ttl time.Duration) error {
	return s.do(ctx, "idempotency_finish", read, func(ctx context.Context) error { return s.next.Finish(ctx, scope, key, rec, ttl) })
}

func (s idempotency) Abandon(ctx context.Context, scope, key string) error {
	return s.do(ctx, "idempotency_abandon", read, func(ctx context.Context) error { return s.next.Abandon(ctx, scope, key) })
}
