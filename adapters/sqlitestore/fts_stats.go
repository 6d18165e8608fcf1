package sqlitestore

import (
	"sync"
	"time"
)

// termCounts remembers, per tenant, how many of the tenant's entries hold a
// query word (capped at rankCap+1: all that rareWords needs to know), so
// that the common words every question repeats — the user's name, "work",
// "dinner" — are probed once, not on every search. A write to a tenant
// forgets its counts: the next search probes again. Counts only choose
// which words BM25 ranks, so a count left stale by another process writing
// the same file costs ranking precision for a while, never correctness.
type termCounts struct {
	mu  sync.Mutex
	gen uint64
	m   map[string]*tenantCounts // by tenant token
	// maxAge, when set, bounds how long a tenant's counts are kept: the
	// only bound on counts left stale by another process's writes.
	maxAge time.Duration
}

type tenantCounts struct {
	gen     uint64 // termCounts.gen when the counts were started
	started time.Time
	counts  map[string]int
}

// Bounds on the cache: beyond them it starts over, which costs probes,
// not answers.
const (
	maxCountedTenants = 4096
	maxCountedWords   = 2048
)

// get returns the cached counts of words and the generation to pass to put.
func (c *termCounts) get(tok string, words []string) (known map[string]int, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tc := c.m[tok]
	if tc != nil && c.maxAge > 0 && time.Since(tc.started) > c.maxAge {
		delete(c.m, tok)
		tc = nil
	}
	if tc == nil {
		return nil, c.gen
	}
	for _, w := range words {
		if n, ok := tc.counts[w]; ok {
			if known == nil {
				known = make(map[string]int, len(words))
			}
			known[w] = n
		}
	}
	return known, tc.gen
}

// put stores counts probed since get returned gen, unless the tenant was
// written to in between.
func (c *termCounts) put(tok string, gen uint64, counts map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tc := c.m[tok]
	switch {
	case tc == nil && gen == c.gen:
		if c.m == nil || len(c.m) >= maxCountedTenants {
			c.m = map[string]*tenantCounts{}
		}
		tc = &tenantCounts{gen: gen, started: time.Now(), counts: map[string]int{}}
		c.m[tok] = tc
	case tc == nil || tc.gen != gen:
		return
	}
	if len(tc.counts)+len(counts) > maxCountedWords {
		clear(tc.counts)
	}
	for w, n := range counts {
		tc.counts[w] = n
	}
}

// forget drops a tenant's counts after a write, and makes any put of counts
// probed before it a no-op.
func (c *termCounts) forget(tok string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, tok)
}
