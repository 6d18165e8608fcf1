package app

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// PartitionedVectors is an in-process vector index whose tenants can be
// measured and dropped one by one (inproc.VectorIndex).
type PartitionedVectors interface {
	ports.VectorIndex
	VectorCentroids
	// PartitionBytes estimates the memory the tenant's vectors hold.
	PartitionBytes(t domain.Tenant) int64
	// DropPartition forgets the tenant's vectors.
	DropPartition(t domain.Tenant)
}

// VectorCacheDeps are what a VectorCache needs.
type VectorCacheDeps struct {
	Index    PartitionedVectors
	Memories ports.MemoryStore // a tenant's active memories are read from it
	Embedder ports.Embedder    // and embedded again when the tenant is paged in
	// MaxBytes is the budget (ENGRAM_VECTOR_CACHE_BYTES), > 0.
	MaxBytes int64
}

// VectorCache keeps an in-process vector index to a memory budget: a
// tenant's vectors are paged in from the store on its first search (its
// active memories listed and embedded again) and the least recently used
// tenants are dropped while the total passes the budget. The tenant being
// served is never dropped for its own sake, so one tenant larger than the
// whole budget is still served (and the budget exceeded by it alone).
//
// Writes (Upsert, Delete) reach only resident tenants; the others read
// the store when they are next paged in. A tenant's page-in holds its
// lock, so a write that commits while it reads the store waits and is
// applied after it: the index ends as the store ends, in either order.
//
// It implements ports.VectorIndex and VectorCentroids; Search and
// Centroid page in. A page-in that fails (store or embedder down) fails
// that search with the error, and the next search tries again.
type VectorCache struct {
	d VectorCacheDeps

	mu    sync.Mutex
	ents  map[domain.Tenant]*list.Element // of *cached, most recent at the front
	lru   *list.List
	total int64

	loads, evictions, hits atomic.Int64
	// What page-ins cost: the store holds no embeddings (vectors are
	// derived, rebuilt with the embedder that serves queries), so a
	// page-in lists the tenant's memories and embeds each again.
	pagedIn, pageInNanos, embedNanos atomic.Int64
}

type cached struct {
	t domain.Tenant
	// mu is held for writing while the tenant is paged in, written to or
	// dropped, and for reading while it is searched.
	mu    sync.RWMutex
	gone  bool  // dropped (or its page-in failed): look it up again
	err   error // why the page-in failed
	bytes int64 // as last accounted in VectorCache.total
}

var (
	_ ports.VectorIndex = (*VectorCache)(nil)
	_ VectorCentroids   = (*VectorCache)(nil)
)

// NewVectorCache wraps d.Index.
func NewVectorCache(d VectorCacheDeps) *VectorCache {
	if d.Index == nil || d.Memories == nil || d.Embedder == nil || d.MaxBytes <= 0 {
		panic("app: VectorCacheDeps needs Index, Memories, Embedder and a positive MaxBytes")
	}
	return &VectorCache{d: d, ents: map[domain.Tenant]*list.Element{}, lru: list.New()}
}

// VectorCacheStats are a VectorCache's counters.
type VectorCacheStats struct {
	Tenants    int   // resident
	Bytes      int64 // their estimated size
	Hits       int64 // lookups (Search, Centroid) of a resident tenant
	Loads      int64 // lookups that paged the tenant in: the misses
	Evictions  int64 // tenants dropped for the budget
	BudgetSize int64
	// PagedIn counts the memories page-ins embedded; PageInTime is the
	// time page-ins took (listing, embedding and indexing, failed ones
	// included), EmbedTime the part spent embedding.
	PagedIn    int64
	PageInTime time.Duration
	EmbedTime  time.Duration
}

// Stats reports the cache's counters.
func (c *VectorCache) Stats() VectorCacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return VectorCacheStats{
		Tenants: len(c.ents), Bytes: c.total, Hits: c.hits.Load(), Loads: c.loads.Load(), Evictions: c.evictions.Load(), BudgetSize: c.d.MaxBytes,
		PagedIn: c.pagedIn.Load(), PageInTime: time.Duration(c.pageInNanos.Load()), EmbedTime: time.Duration(c.embedNanos.Load()),
	}
}

// Bind implements ports.VectorIndex.
func (c *VectorCache) Bind(ctx context.Context, s ports.VectorSpace) error {
	return c.d.Index.Bind(ctx, s)
}

// Search implements ports.VectorIndex, paging the tenant in first.
func (c *VectorCache) Search(ctx context.Context, t domain.Tenant, q []float32, k int, f domain.SearchFilter) ([]ports.Hit, error) {
	var hits []ports.Hit
	err := c.read(ctx, t, func() (err error) {
		hits, err = c.d.Index.Search(ctx, t, q, k, f)
		return err
	})
	return hits, err
}

var _ ports.VectorMultiSearcher = (*VectorCache)(nil)

// SearchEach implements ports.VectorMultiSearcher, paging the tenant in
// first.
func (c *VectorCache) SearchEach(ctx context.Context, t domain.Tenant, qs [][]float32, k int, f domain.SearchFilter) ([][]ports.Hit, error) {
	var hits [][]ports.Hit
	err := c.read(ctx, t, func() (err error) {
		hits, err = searchEach(ctx, c.d.Index, t, qs, k, f)
		return err
	})
	return hits, err
}

// Centroid implements VectorCentroids, paging the tenant in first.
func (c *VectorCache) Centroid(ctx context.Context, t domain.Tenant) ([]float32, int, error) {
	var (
		v []float32
		n int
	)
	err := c.read(ctx, t, func() (err error) {
		v, n, err = c.d.Index.Centroid(ctx, t)
		return err
	})
	return v, n, err
}

// Upsert implements ports.VectorIndex for resident tenants.
func (c *VectorCache) Upsert(ctx context.Context, t domain.Tenant, docs []ports.VectorDoc) error {
	return c.write(t, func() error { return c.d.Index.Upsert(ctx, t, docs) })
}

// Delete implements ports.VectorIndex for resident tenants.
func (c *VectorCache) Delete(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) error {
	return c.write(t, func() error { return c.d.Index.Delete(ctx, t, ids) })
}

// Resident reports whether the tenant's vectors are in the cache or being
// paged in: the Indexer embeds a change only for those.
func (c *VectorCache) Resident(t domain.Tenant) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ents[t] != nil
}

// read runs fn with the tenant resident and held for reading.
func (c *VectorCache) read(ctx context.Context, t domain.Tenant, fn func() error) error {
	for {
		e, loaded := c.touch(t)
		if loaded {
			c.pageIn(ctx, e)
		} else {
			c.hits.Add(1)
		}
		e.mu.RLock()
		if e.gone {
			err := e.err
			e.mu.RUnlock()
			if err != nil {
				return fmt.Errorf("vector cache: page in %s/%s: %w", t.OrgID, t.UserID, err)
			}
			continue // dropped between the page-in and now: page in again
		}
		err := fn()
		e.mu.RUnlock()
		return err
	}
}

// write runs fn when the tenant is resident; otherwise the store is the
// only record and the next page-in reads it.
func (c *VectorCache) write(t domain.Tenant, fn func() error) error {
	c.mu.Lock()
	el := c.ents[t]
	c.mu.Unlock()
	if el == nil {
		return nil
	}
	e := el.Value.(*cached)
	e.mu.Lock()
	if e.gone {
		e.mu.Unlock()
		return nil
	}
	err := fn()
	c.account(e)
	e.mu.Unlock()
	c.evict(t)
	return err
}

// touch returns the tenant's entry, marked most recently used, creating it
// (loaded true: the caller pages it in) when absent.
func (c *VectorCache) touch(t domain.Tenant) (*cached, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.ents[t]; el != nil {
		c.lru.MoveToFront(el)
		return el.Value.(*cached), false
	}
	e := &cached{t: t}
	e.mu.Lock() // before anyone else can see it: readers and writers wait for the page-in
	c.ents[t] = c.lru.PushFront(e)
	return e, true
}

// pageIn fills the tenant's vectors from the store; e is locked by touch.
func (c *VectorCache) pageIn(ctx context.Context, e *cached) {
	c.loads.Add(1)
	start := time.Now()
	err := c.fill(ctx, e.t)
	c.pageInNanos.Add(int64(time.Since(start)))
	if err != nil {
		e.gone, e.err = true, err
		c.d.Index.DropPartition(e.t)
		c.mu.Lock()
		if el := c.ents[e.t]; el != nil && el.Value == e {
			c.lru.Remove(el)
			delete(c.ents, e.t)
		}
		c.mu.Unlock()
		e.mu.Unlock()
		return
	}
	c.account(e)
	e.mu.Unlock()
	c.evict(e.t)
}

// cachePage is how many memories a page-in lists per store call.
const cachePage = domain.MaxListLimit

func (c *VectorCache) fill(ctx context.Context, t domain.Tenant) error {
	q := domain.ListQuery{States: []domain.State{domain.StateActive}, Limit: cachePage}
	// On the primary: writes committed before the page-in reach only
	// resident tenants, so a lagging replica's copy would lose them.
	ctx = ports.WithPrimaryReads(ctx)
	for {
		page, err := c.d.Memories.List(ctx, t, q)
		if err != nil {
			return err
		}
		start := time.Now()
		docs, err := embedDocs(ctx, c.d.Embedder, page.Items)
		c.embedNanos.Add(int64(time.Since(start)))
		if err != nil {
			return err
		}
		c.pagedIn.Add(int64(len(docs)))
		if err := c.d.Index.Upsert(ctx, t, docs); err != nil {
			return err
		}
		if page.NextCursor == "" || len(page.Items) == 0 {
			return nil
		}
		q.Cursor = page.NextCursor
	}
}

// account updates the total with e's size; e.mu is held.
func (c *VectorCache) account(e *cached) {
	b := c.d.Index.PartitionBytes(e.t)
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.ents[e.t]; el != nil && el.Value == e {
		c.total += b - e.bytes
		e.bytes = b
	}
}

// evict drops the least recently used tenants other than keep while the
// total passes the budget. It takes only tenants nobody is searching,
// writing or paging in right now (TryLock), and drops them under c.mu, so
// no page-in of the same tenant can start before its old vectors are gone.
// When every candidate is busy the total stays over the budget until the
// next call.
func (c *VectorCache) evict(keep domain.Tenant) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.lru.Back(); el != nil && c.total > c.d.MaxBytes; {
		e := el.Value.(*cached)
		prev := el.Prev()
		if e.t != keep && e.mu.TryLock() {
			c.lru.Remove(el)
			delete(c.ents, e.t)
			c.total -= e.bytes
			e.gone = true
			c.d.Index.DropPartition(e.t)
			e.mu.Unlock()
			c.evictions.Add(1)
		}
		el = prev
	}
}
