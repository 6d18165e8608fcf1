package ports

import (
	"context"
	"time"
)

// RateLimit is a token bucket: Burst tokens, refilled at Burst per Period.
type RateLimit struct {
	Burst  int
	Period time.Duration
}

// RateDecision is the outcome of one Allow call.
type RateDecision struct {
	Allowed    bool
	Limit      int           // the bucket size
	Remaining  int           // whole tokens left after this call
	Reset      time.Duration // until the bucket is full again
	RetryAfter time.Duration // until cost tokens are available; 0 when allowed
}

// RateLimiter decides token-bucket admissions.
//
// Allow atomically takes cost tokens from the bucket named key when it holds
// that many, refilling by elapsed time first. Concurrent calls never admit
// more than the bucket allows: a full bucket of 10 hit by 100 concurrent
// calls of cost 1 admits exactly 10. Backend failures wrap
// domain.ErrUnavailable (the HTTP middleware fails open on them). A limit
// with Burst < 1 or Period <= 0, a cost outside 1..Burst or an empty key
// wraps domain.ErrInvalid. Buckets of different keys are independent; a
// bucket untouched for Reset is indistinguishable from a new, full one, so
// backends may forget it.
type RateLimiter interface {
	Allow(ctx context.Context, key string, limit RateLimit, cost int) (RateDecision, error)
}
