package telemetry

import (
	"context"

	"github.com/engram-memory/engram/ports"
)

// CountDecisions counts what the rate limiter decided, which an interceptor
// cannot see: rejections (engram_rate_limit_rejections_total) and calls the
// limiter could not answer, which callers let through
// (engram_rate_limit_fail_open_total). Wrap it outside the intercepted
// limiter, so an open breaker counts as failing open.
func (t *T) CountDecisions(dep string, next ports.RateLimiter) ports.RateLimiter {
	return decisions{next: next, t: t, dep: dep}
}

type decisions struct {
	next ports.RateLimiter
	t    *T
	dep  string
}

func (l decisions) Allow(ctx context.Context, key string, limit ports.RateLimit, cost int) (ports.RateDecision, error) {
	d, err := l.next.Allow(ctx, key, limit, cost)
	switch {
	case Outcome(err) == "unavailable":
		l.t.m.failOpen.WithLabelValues(l.dep).Inc()
	case err == nil && !d.Allowed:
		l.t.m.rateLimited.WithLabelValues(l.dep).Inc()
	}
	return d, err
}
