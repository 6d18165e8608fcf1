package inproc

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// ReplayOptions configures a ReplayCache. Zero fields take the defaults.
type ReplayOptions struct {
	MaxKeys    int           // default 1,000,000 (about 100 MB at 100 bytes a key)
	SweepEvery time.Duration // default 30s
	Clock      ports.Clock   // default the system clock
}

// ReplayCache is a ports.ReplayCache in this process's memory.
type ReplayCache struct {
	clock ports.Clock
	max   int
	sw    *sweeper

	mu   sync.Mutex
	keys map[string]time.Time
}

var _ ports.ReplayCache = (*ReplayCache)(nil)

// NewReplayCache starts a cache and its sweeper; Close stops it.
func NewReplayCache(o ReplayOptions) *ReplayCache {
	if o.MaxKeys <= 0 {
		o.MaxKeys = 1_000_000
	}
	if o.Clock == nil {
		o.Clock = ports.SystemClock{}
	}
	c := &ReplayCache{clock: o.Clock, max: o.MaxKeys, keys: make(map[string]time.Time)}
	c.sw = startSweeper(o.SweepEvery, func() {
		c.mu.Lock()
		c.sweepLocked(c.clock.Now())
		c.mu.Unlock()
	})
	return c
}

// Remember implements ports.ReplayCache.
func (c *ReplayCache) Remember(_ context.Context, key string, until time.Time) (bool, error) {
	if key == "" {
		return false, fmt.Errorf("inproc: remember: %w", domain.Invalid("key", "must not be empty"))
	}
	now := c.clock.Now()
	if !until.After(now) {
		return false, fmt.Errorf("inproc: remember: %w", domain.Invalid("until", "must be in the future"))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if exp, ok := c.keys[key]; ok && exp.After(now) {
		return false, nil
	}
	if len(c.keys) >= c.max {
		c.sweepLocked(now)
		if len(c.keys) >= c.max {
			// Fail closed: evicting an unexpired jti would reopen it to replay.
			return false, fmt.Errorf("inproc: remember: %w", &domain.UnavailableError{
				Dependency: "replay cache", RetryAfter: 1,
				Err: fmt.Errorf("full with %d unexpired keys", len(c.keys)),
			})
		}
	}
	c.keys[key] = until
	return true, nil
}

// Len reports how many keys are held, expired ones not yet swept included.
func (c *ReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.keys)
}

// Close stops the sweeper. The cache stays usable; nothing is swept anymore.
func (c *ReplayCache) Close() error {
	c.sw.stop()
	return nil
}

func (c *ReplayCache) sweepLocked(now time.Time) {
	for k, exp := range c.keys {
		if !exp.After(now) {
			delete(c.keys, k)
		}
	}
}

// sweeper runs fn every interval until stopped. The cache, the limiter and
// the session store each own one.
type sweeper struct {
	once sync.Once
	quit chan struct{}
	done chan struct{}
}

func startSweeper(every time.Duration, fn func()) *sweeper {
	if every <= 0 {
		every = 30 * time.Second
	}
	s := &sweeper{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				fn()
			case <-s.quit:
				return
			}
		}
	}()
	return s
}

// stop ends the goroutine and waits for it; safe to call twice.
func (s *sweeper) stop() {
	s.once.Do(func() { close(s.quit) })
	<-s.done
}
