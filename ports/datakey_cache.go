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

// DataKeyForgetter is a store whose process caches unwrapped data keys
// (a DataKeyCache). A subject's erasure can run in another process (another
// engramd of a fleet, or `engram erase` beside an engramd on one SQLite
// file): only that process's store forgets the subject's keys when it
// destroys them. Every other process must forget them too, or it would go
// on sealing the subject's later writes with a key that no longer exists,
// which no other process (nor this one after a restart) could open. The
// erasure worker calls ForgetDataKeys for every subject whose job it sees
// running and again when it sees the job end (app.PrivacyService.Refresh):
// the key a read puts back into the cache while the job runs is dropped
// once the job, which destroys it, is over.
type DataKeyForgetter interface {
	ForgetDataKeys(subj domain.Subject)
}
