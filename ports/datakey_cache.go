package ports

import (
	"sync"

	"github.com/engram-memory/engram/domain"
)

// DataKeyCache holds unwrapped data keys by tenant, so a store unwraps each
// tenant's key once rather than on every sealed value. The zero value is
// ready and safe for concurrent use. What enters it is the store's call:
// only committed keys (a rolled-back write must leave none behind), and a
// store forgets a subject's keys when it destroys them, so an erased
// subject's values cannot be opened from the cache.
type DataKeyCache struct {
	mu sync.RWMutex
	m  map[domain.Tenant]*DataKey
}

// Get returns t's cached key, or nil.
func (c *DataKeyCache) Get(t domain.Tenant) *DataKey {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[t]
}

// Put caches t's key.
func (c *DataKeyCache) Put(t domain.Tenant, dk *DataKey) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[domain.Tenant]*DataKey{}
	}
	c.m[t] = dk
	c.mu.Unlock()
}

// Forget drops the subject's keys: its user's, or every user's of the org
// when the subject is org-wide.
func (c *DataKeyCache) Forget(subj domain.Subject) {
	c.mu.Lock()
	for t := range c.m {
		if t.OrgID == subj.OrgID && (subj.OrgWide() || t.UserID == subj.UserID) {
			delete(c.m, t)
		}
	}
	c.mu.Unlock()
}
