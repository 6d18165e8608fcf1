package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// RouteClass groups routes that share a bucket: a burst of cheap reads must
// not starve writes, and search (which embeds the query) is costlier still.
type RouteClass string

// The route classes.
const (
	ClassReads  RouteClass = "reads"
	ClassWrites RouteClass = "writes"
	ClassSearch RouteClass = "search"
)

// RateLimits are the buckets of each class, per principal (org and user).
type RateLimits struct {
	Reads, Writes, Search ports.RateLimit
}

// DefaultRateLimits: 600 reads, 120 writes and 60 searches a minute per user,
// each with a burst of the whole minute's allowance.
var DefaultRateLimits = RateLimits{
	Reads:  ports.RateLimit{Burst: 600, Period: time.Minute},
	Writes: ports.RateLimit{Burst: 120, Period: time.Minute},
	Search: ports.RateLimit{Burst: 60, Period: time.Minute},
}

// For returns the class's limit.
func (l RateLimits) For(c RouteClass) (ports.RateLimit, error) {
	switch c {
	case ClassReads:
		return l.Reads, nil
	case ClassWrites:
		return l.Writes, nil
	case ClassSearch:
		return l.Search, nil
	}
	return ports.RateLimit{}, domain.Invalid("route_class", "unknown class %q", c)
}

// Validate checks every class has a usable bucket.
func (l RateLimits) Validate() error {
	for _, c := range []RouteClass{ClassReads, ClassWrites, ClassSearch} {
		lim, _ := l.For(c)
		if err := lim.Check(string(c), 1); err != nil {
			return fmt.Errorf("rate limit %s: %w", c, err)
		}
	}
	return nil
}

// RateLimitDeps are what RateLimitService needs; Limiter is required.
type RateLimitDeps struct {
	Limiter ports.RateLimiter
	Limits  RateLimits // zero: DefaultRateLimits
	Clock   ports.Clock
	Logger  *slog.Logger
	// OnFailOpen is called each time a request is admitted unchecked because
	// the limiter is unavailable (a metric counter hooks in here).
	OnFailOpen func(class RouteClass)
}

// RateLimitService decides whether a principal may make one more request of
// a class, and what the response should say about it.
//
// Failure policy: when the limiter is unavailable (Valkey down) the request
// is admitted — refusing everything because a counter is down would turn a
// cache outage into a full outage — with a warning log (at most one per
// warnEvery) and OnFailOpen for a metric. Compare the DPoP replay check,
// which fails closed.
type RateLimitService struct {
	d        RateLimitDeps
	failOpen atomic.Int64
	lastWarn atomic.Int64 // unix nanos of the last fail-open warning
	refused  refusals
	asked    atomic.Int64 // calls that reached the limiter
}

// refusals remembers, per bucket, a refusal that still stands. A token
// bucket that refused one token at t with Retry-After r holds less than
// one token until t+r whatever else happens: it refills at a steady rate
// and other requests only take from it. So a request in between is
// refused here with the same answer the limiter would give, without
// asking it. Under a flood over budget this keeps the shared limiter
// (Valkey, which every tenant's requests go through) out of it: one round
// trip per bucket per refill or per refusalMemo, not one per request.
// Entries are kept at most refusalMemo, so that a bucket reset behind our
// back (an erasure deletes a user's buckets) is seen within that time,
// and at most maxRefusals of them, so that memory stays bounded.
type refusals struct {
	mu sync.Mutex
	m  map[string]refusal
}

type refusal struct {
	memoUntil time.Time // when to ask the limiter again
	retryAt   time.Time // when the bucket has a token again
	resetAt   time.Time // when the bucket is full again
}

const (
	refusalMemo = time.Second
	maxRefusals = 65536
)

func (r *refusals) standing(key string, now time.Time) (refusal, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, ok := r.m[key]
	if ok && !now.Before(f.memoUntil) {
		delete(r.m, key)
		ok = false
	}
	return f, ok
}

func (r *refusals) remember(key string, now time.Time, d ports.RateDecision) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[string]refusal)
	}
	if len(r.m) >= maxRefusals {
		for k, f := range r.m {
			if !now.Before(f.memoUntil) {
				delete(r.m, k)
			}
		}
		if len(r.m) >= maxRefusals {
			return // the limiter is asked, as without the memo
		}
	}
	r.m[key] = refusal{memoUntil: now.Add(min(d.RetryAfter, refusalMemo)), retryAt: now.Add(d.RetryAfter),
		resetAt: now.Add(d.Reset)}
}

// warnEvery rate-limits the fail-open warning itself.
const warnEvery = 10 * time.Second

// NewRateLimitService validates the limits (naming the bad class) and
// returns the service.
func NewRateLimitService(d RateLimitDeps) (*RateLimitService, error) {
	if d.Limiter == nil {
		panic("app: RateLimitDeps needs Limiter")
	}
	if d.Limits == (RateLimits{}) {
		d.Limits = DefaultRateLimits
	}
	if err := d.Limits.Validate(); err != nil {
		return nil, err
	}
	if d.Clock == nil {
		d.Clock = ports.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &RateLimitService{d: d}, nil
}

// RateLimitedError is a refused request. It unwraps to domain.ErrRateLimited
// and carries the Retry-After the 429 must send.
type RateLimitedError struct {
	Class      RouteClass
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("rate limited (%s): retry after %s", e.Class, e.RetryAfter)
}

func (e *RateLimitedError) Unwrap() error { return domain.ErrRateLimited }

// RetryAfterSeconds is the Retry-After header value: whole seconds, rounded
// up, at least 1.
func (e *RateLimitedError) RetryAfterSeconds() int { return max(1, ceilSeconds(e.RetryAfter)) }

// RateHeader is one response header.
type RateHeader struct{ Name, Value string }

// RateResult is the outcome of Check.
type RateResult struct {
	Decision   ports.RateDecision
	FailedOpen bool // admitted unchecked: the limiter was unavailable
	// Headers go on the response whether admitted or refused; empty when
	// the check failed open (there is nothing true to say).
	Headers []RateHeader
}

// Check takes one token from the principal's bucket of class. A refused
// request answers the result (headers to send) and a *RateLimitedError.
// Other errors are configuration bugs (unknown class, invalid limit).
func (s *RateLimitService) Check(ctx context.Context, p domain.Principal, class RouteClass) (RateResult, error) {
	lim, err := s.d.Limits.For(class)
	if err != nil {
		return RateResult{}, err
	}
	key, now := RateKey(p, class), s.d.Clock.Now()
	if f, ok := s.refused.standing(key, now); ok {
		d := ports.RateDecision{Limit: lim.Burst, Reset: max(0, f.resetAt.Sub(now)), RetryAfter: max(0, f.retryAt.Sub(now))}
		return RateResult{Decision: d, Headers: RateHeaders(class, lim, d, now)}, &RateLimitedError{Class: class, RetryAfter: d.RetryAfter}
	}
	s.asked.Add(1)
	d, err := s.d.Limiter.Allow(ctx, key, lim, 1)
	if err != nil {
		if !errors.Is(err, domain.ErrUnavailable) {
			return RateResult{}, err
		}
		s.failedOpen(ctx, class, err)
		return RateResult{Decision: ports.RateDecision{Allowed: true, Limit: lim.Burst}, FailedOpen: true}, nil
	}
	res := RateResult{Decision: d, Headers: RateHeaders(class, lim, d, now)}
	if !d.Allowed {
		if d.RetryAfter > 0 {
			s.refused.remember(key, now, d)
		}
		return res, &RateLimitedError{Class: class, RetryAfter: d.RetryAfter}
	}
	return res, nil
}

// LimiterCalls is how many checks reached the limiter: a refusal that
// still stands is answered without it.
func (s *RateLimitService) LimiterCalls() int64 { return s.asked.Load() }

// FailOpenCount is how many requests were admitted unchecked so far.
func (s *RateLimitService) FailOpenCount() int64 { return s.failOpen.Load() }

func (s *RateLimitService) failedOpen(ctx context.Context, class RouteClass, err error) {
	s.failOpen.Add(1)
	if s.d.OnFailOpen != nil {
		s.d.OnFailOpen(class)
	}
	now := s.d.Clock.Now().UnixNano()
	last := s.lastWarn.Load()
	if now-last >= int64(warnEvery) && s.lastWarn.CompareAndSwap(last, now) {
		s.d.Logger.WarnContext(ctx, "rate limiter unavailable: admitting requests unchecked (fail open)",
			"class", class, "admitted_unchecked_total", s.failOpen.Load(), "err", err)
	}
}

// RateKey names the bucket of a principal and class. The org's length comes
// first so that no org/user split can collide with another.
func RateKey(p domain.Principal, class RouteClass) string {
	return "rl:" + string(class) + ":" + strconv.Itoa(len(p.OrgID)) + ":" + string(p.OrgID) + ":" + string(p.UserID)
}

// RateHeaders computes the response headers for a decision:
//
//   - RateLimit-Policy and RateLimit as in draft-ietf-httpapi-ratelimit-headers
//     (structured fields: quota q over window w seconds; remaining r, reset t
//     seconds until the bucket is full again), named after the route class;
//   - X-RateLimit-Limit, -Remaining and -Reset for older clients, Reset being
//     the Unix time in seconds when the bucket is full (GitHub's convention);
//   - Retry-After (delta seconds, at least 1) when refused.
func RateHeaders(class RouteClass, lim ports.RateLimit, d ports.RateDecision, now time.Time) []RateHeader {
	reset := ceilSeconds(d.Reset)
	h := []RateHeader{
		{"RateLimit-Policy", fmt.Sprintf("%q;q=%d;w=%d", class, lim.Burst, max(1, ceilSeconds(lim.Period)))},
		{"RateLimit", fmt.Sprintf("%q;r=%d;t=%d", class, d.Remaining, reset)},
		{"X-RateLimit-Limit", strconv.Itoa(d.Limit)},
		{"X-RateLimit-Remaining", strconv.Itoa(d.Remaining)},
		{"X-RateLimit-Reset", strconv.FormatInt(now.Add(time.Duration(reset)*time.Second).Unix(), 10)},
	}
	if !d.Allowed {
		h = append(h, RateHeader{"Retry-After", strconv.Itoa(max(1, ceilSeconds(d.RetryAfter)))})
	}
	return h
}

func ceilSeconds(d time.Duration) int { return int(math.Ceil(d.Seconds())) }
