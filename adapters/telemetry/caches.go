package telemetry

import (
	"context"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// ReplayCache traces and measures a DPoP replay cache.
type ReplayCache struct {
	next ports.ReplayCache
	t    *T
	dep  string
}

// ReplayCache decorates next.
func (t *T) ReplayCache(dep string, next ports.ReplayCache) *ReplayCache {
	return &ReplayCache{next: next, t: t, dep: dep}
}

func (r *ReplayCache) Remember(ctx context.Context, key string, until time.Time) (bool, error) {
	return call(ctx, r.t, r.dep, "remember", func(ctx context.Context) (bool, error) { return r.next.Remember(ctx, key, until) })
}

// RateLimiter traces and measures a rate limiter, and counts its
// refusals and its failures (on which the API fails open).
type RateLimiter struct {
	next ports.RateLimiter
	t    *T
	dep  string
}

// RateLimiter decorates next.
func (t *T) RateLimiter(dep string, next ports.RateLimiter) *RateLimiter {
	return &RateLimiter{next: next, t: t, dep: dep}
}

func (l *RateLimiter) Allow(ctx context.Context, key string, limit ports.RateLimit, cost int) (ports.RateDecision, error) {
	d, err := call(ctx, l.t, l.dep, "allow", func(ctx context.Context) (ports.RateDecision, error) {
		return l.next.Allow(ctx, key, limit, cost)
	})
	switch {
	case Outcome(err) == "unavailable":
		l.t.m.failOpen.WithLabelValues(l.dep).Inc()
	case err == nil && !d.Allowed:
		l.t.m.rateLimited.WithLabelValues(l.dep).Inc()
	}
	return d, err
}

// SessionStore traces and measures a session store.
type SessionStore struct {
	next ports.SessionStore
	t    *T
	dep  string
}

// SessionStore decorates next.
func (t *T) SessionStore(dep string, next ports.SessionStore) *SessionStore {
	return &SessionStore{next: next, t: t, dep: dep}
}

func (s *SessionStore) Append(ctx context.Context, t domain.Tenant, session domain.SessionID, e domain.SessionEvent) (domain.SessionEvent, error) {
	return call(ctx, s.t, s.dep, "append", func(ctx context.Context) (domain.SessionEvent, error) {
		return s.next.Append(ctx, t, session, e)
	})
}

func (s *SessionStore) Recent(ctx context.Context, t domain.Tenant, session domain.SessionID, n int) ([]domain.SessionEvent, error) {
	return call(ctx, s.t, s.dep, "recent", func(ctx context.Context) ([]domain.SessionEvent, error) {
		return s.next.Recent(ctx, t, session, n)
	})
}

func (s *SessionStore) Events(ctx context.Context, t domain.Tenant, session domain.SessionID, ids []string) ([]domain.SessionEvent, error) {
	return call(ctx, s.t, s.dep, "events", func(ctx context.Context) ([]domain.SessionEvent, error) {
		return s.next.Events(ctx, t, session, ids)
	})
}

func (s *SessionStore) FindMention(ctx context.Context, t domain.Tenant, session domain.SessionID, term string) (domain.SessionEvent, error) {
	return call(ctx, s.t, s.dep, "find_mention", func(ctx context.Context) (domain.SessionEvent, error) {
		return s.next.FindMention(ctx, t, session, term)
	})
}

func (s *SessionStore) End(ctx context.Context, t domain.Tenant, session domain.SessionID) error {
	return run(ctx, s.t, s.dep, "end", func(ctx context.Context) error { return s.next.End(ctx, t, session) })
}
