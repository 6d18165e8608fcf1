package inproc

import (
	"container/list"
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/engram-memory/engram/ports"
)

// RateLimiterOptions configures a RateLimiter. Zero fields take the defaults.
type RateLimiterOptions struct {
	MaxKeys    int           // default 100,000 buckets
	SweepEvery time.Duration // default 30s
	Clock      ports.Clock   // default the system clock
}

// RateLimiter is a ports.RateLimiter in this process's memory: token buckets
// kept in an LRU list so that at the cap the least recently used bucket goes.
type RateLimiter struct {
	clock ports.Clock
	max   int
	sw    *sweeper

	mu      sync.Mutex
	buckets map[string]*list.Element // of *bucket
	lru     list.List                // front: most recently used
}

type bucket struct {
	key    string
	tokens float64
	at     time.Time // when tokens was computed
	fullAt time.Time // when the bucket is full again; after that it can go
}

var _ ports.RateLimiter = (*RateLimiter)(nil)

// NewRateLimiter starts a limiter and its sweeper; Close stops it.
func NewRateLimiter(o RateLimiterOptions) *RateLimiter {
	if o.MaxKeys <= 0 {
		o.MaxKeys = 100_000
	}
	if o.Clock == nil {
		o.Clock = ports.SystemClock{}
	}
	l := &RateLimiter{clock: o.Clock, max: o.MaxKeys, buckets: make(map[string]*list.Element)}
	l.sw = startSweeper(o.SweepEvery, l.sweep)
	return l
}

// Allow implements ports.RateLimiter.
func (l *RateLimiter) Allow(_ context.Context, key string, limit ports.RateLimit, cost int) (ports.RateDecision, error) {
	if err := limit.Check(key, cost); err != nil {
		return ports.RateDecision{}, fmt.Errorf("inproc: allow %q: %w", key, err)
	}
	now := l.clock.Now()
	perToken := limit.Period.Seconds() / float64(limit.Burst) // seconds per token
	burst := float64(limit.Burst)

	l.mu.Lock()
	defer l.mu.Unlock()
	var b *bucket
	if el, ok := l.buckets[key]; ok {
		l.lru.MoveToFront(el)
		b = el.Value.(*bucket)
		if elapsed := now.Sub(b.at).Seconds(); elapsed > 0 {
			b.tokens = math.Min(burst, b.tokens+elapsed/perToken)
			b.at = now
		}
	} else {
		if len(l.buckets) >= l.max {
			oldest := l.lru.Back()
			l.lru.Remove(oldest)
			delete(l.buckets, oldest.Value.(*bucket).key)
		}
		b = &bucket{key: key, tokens: burst, at: now}
		l.buckets[key] = l.lru.PushFront(b)
	}
	// A bucket may have been filled under a larger limit than this call's.
	b.tokens = math.Min(b.tokens, burst)

	d := ports.RateDecision{Limit: limit.Burst}
	if b.tokens >= float64(cost) {
		b.tokens -= float64(cost)
		d.Allowed = true
	} else {
		d.RetryAfter = seconds((float64(cost) - b.tokens) * perToken)
	}
	d.Remaining = int(math.Floor(b.tokens))
	d.Reset = seconds((burst - b.tokens) * perToken)
	b.fullAt = now.Add(d.Reset)
	return d, nil
}

// Len reports how many buckets are held.
func (l *RateLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// Close stops the sweeper.
func (l *RateLimiter) Close() error {
	l.sw.stop()
	return nil
}

// sweep drops buckets that have refilled: they equal a new bucket.
func (l *RateLimiter) sweep() {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for key, el := range l.buckets {
		if !el.Value.(*bucket).fullAt.After(now) {
			l.lru.Remove(el)
			delete(l.buckets, key)
		}
	}
}

// seconds converts to a duration rounded up to the microsecond, so that
// waiting RetryAfter is always enough.
func seconds(s float64) time.Duration {
	return time.Duration(math.Ceil(s*1e6)) * time.Microsecond
}
