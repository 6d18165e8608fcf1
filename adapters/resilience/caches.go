package resilience

import (
	"context"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// ReplayCache guards a DPoP replay cache. Remember is never retried: a
// first attempt that landed but whose answer was lost would make the retry
// see its own jti and refuse a legitimate proof.
type ReplayCache struct {
	next ports.ReplayCache
	p    *Policy
}

// NewReplayCache decorates next with p.
func NewReplayCache(next ports.ReplayCache, p *Policy) *ReplayCache {
	return &ReplayCache{next: next, p: p}
}

func (r *ReplayCache) Remember(ctx context.Context, key string, until time.Time) (bool, error) {
	return do(ctx, r.p, "remember", false, func(ctx context.Context) (bool, error) { return r.next.Remember(ctx, key, until) })
}

// RateLimiter guards a rate limiter. Allow takes tokens, so it is not
// retried; the HTTP middleware fails open on the Unavailable it gets.
type RateLimiter struct {
	next ports.RateLimiter
	p    *Policy
}

// NewRateLimiter decorates next with p.
func NewRateLimiter(next ports.RateLimiter, p *Policy) *RateLimiter {
	return &RateLimiter{next: next, p: p}
}

func (l *RateLimiter) Allow(ctx context.Context, key string, limit ports.RateLimit, cost int) (ports.RateDecision, error) {
	return do(ctx, l.p, "allow", false, func(ctx context.Context) (ports.RateDecision, error) {
		return l.next.Allow(ctx, key, limit, cost)
	})
}

// SessionStore guards a session store: reads retry, Append and End do not.
type SessionStore struct {
	next ports.SessionStore
	p    *Policy
}

// NewSessionStore decorates next with p.
func NewSessionStore(next ports.SessionStore, p *Policy) *SessionStore {
	return &SessionStore{next: next, p: p}
}

func (s *SessionStore) Append(ctx context.Context, t domain.Tenant, session domain.SessionID, e domain.SessionEvent) (domain.SessionEvent, error) {
	return do(ctx, s.p, "append", false, func(ctx context.Context) (domain.SessionEvent, error) {
		return s.next.Append(ctx, t, session, e)
	})
}

func (s *SessionStore) Recent(ctx context.Context, t domain.Tenant, session domain.SessionID, n int) ([]domain.SessionEvent, error) {
	return do(ctx, s.p, "recent", true, func(ctx context.Context) ([]domain.SessionEvent, error) {
		return s.next.Recent(ctx, t, session, n)
	})
}

func (s *SessionStore) Events(ctx context.Context, t domain.Tenant, session domain.SessionID, ids []string) ([]domain.SessionEvent, error) {
	return do(ctx, s.p, "events", true, func(ctx context.Context) ([]domain.SessionEvent, error) {
		return s.next.Events(ctx, t, session, ids)
	})
}

func (s *SessionStore) FindMention(ctx context.Context, t domain.Tenant, session domain.SessionID, term string) (domain.SessionEvent, error) {
	return do(ctx, s.p, "find_mention", true, func(ctx context.Context) (domain.SessionEvent, error) {
		return s.next.FindMention(ctx, t, session, term)
	})
}

func (s *SessionStore) End(ctx context.Context, t domain.Tenant, session domain.SessionID) error {
	_, err := do(ctx, s.p, "end", false, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.next.End(ctx, t, session)
	})
	return err
}
