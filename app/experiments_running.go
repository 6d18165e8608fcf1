package app

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/engram-memory/engram/domain"
)

// RunningCacheTTL bounds how long a search may act on a stale answer to
// "which experiment runs in this org": a start, pause or completion made
// through another server takes effect on this one within it. Changes made
// through this service take effect at once.
const RunningCacheTTL = time.Second

// runningCache remembers each org's running experiment (or its absence)
// for RunningCacheTTL, so that a search costs no experiment read.
type runningCache struct {
	mu sync.Mutex
	m  map[domain.OrgID]runningEntry
}

type runningEntry struct {
	e     domain.Experiment
	found bool
	until time.Time
}

// running returns the org's running experiment; ok is false when none runs.
func (s *ExperimentService) running(ctx context.Context, org domain.OrgID) (domain.Experiment, bool, error) {
	now := s.d.Clock.Now()
	c := &s.cache
	c.mu.Lock()
	if ent, hit := c.m[org]; hit && now.Before(ent.until) {
		c.mu.Unlock()
		return ent.e, ent.found, nil
	}
	c.mu.Unlock()
	e, err := s.d.Experiments.RunningExperiment(ctx, org)
	found := err == nil
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return domain.Experiment{}, false, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[domain.OrgID]runningEntry{}
	}
	if len(c.m) > 10000 { // bounded: drop everything rather than track ages
		clear(c.m)
	}
	c.m[org] = runningEntry{e: e, found: found, until: now.Add(RunningCacheTTL)}
	c.mu.Unlock()
	return e, found, nil
}

// forget drops the org's cached answer after a change through this service.
func (s *ExperimentService) forget(org domain.OrgID) {
	s.cache.mu.Lock()
	delete(s.cache.m, org)
	s.cache.mu.Unlock()
}
