package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// IndexerDeps are the ports the index maintainer needs. Text and Vectors are
// each optional; Vectors needs Embedder. Scanner is needed by Reindex only.
type IndexerDeps struct {
	Memories ports.MemoryStore
	Scanner  ports.MemoryScanner
	Text     ports.TextIndex
	Vectors  ports.VectorIndex
	Embedder ports.Embedder
	// Drift lets Repair find what lags; nil means Text itself when it
	// implements ports.IndexDrift. Set it explicitly when Text is wrapped
	// in decorators that hide the method.
	Drift ports.IndexDrift
	// FullRepairEvery is how many KeepRepaired ticks pass between repairs
	// of every org (the ticks between repair only the suspect orgs); zero
	// means 12 (a minute at engramd's 5 s).
	FullRepairEvery int
	// TextRelayed and VectorsRelayed say an IndexRelay feeds that index
	// from the store's durable outbox (the external indexes of a serving
	// process): change notices and their pending retries leave it alone.
	// Reindex still writes it.
	TextRelayed, VectorsRelayed bool
	Logger                      *slog.Logger
}

// Indexer keeps the text and vector indexes in step with the store. It is a
// ChangeObserver: after every committed add, update, state change, delete or
// erase it reloads the named memories from the store and re-indexes the
// active ones (an updated memory is re-embedded) and removes the others.
// Reloading instead of trusting the event makes it idempotent and immune to
// reordering: whatever the store says last is what the indexes hold.
//
// A failed sync never loses a memory (the store has it); the ids are kept as
// pending and retried with the tenant's next change or by RetryPending, and
// Pending reports the lag for readiness checks. The pending set lives in
// memory: after a crash, `engram reindex` (or the start-up load of the
// in-process vector index) repairs what it held.
type Indexer struct {
	d IndexerDeps

	mu      sync.Mutex
	pending map[domain.Tenant]map[domain.MemoryID]struct{}
	// suspect are the orgs a write with an unknown outcome touched, with
	// the number of KeepRepaired passes that still repair them.
	suspect map[domain.OrgID]int
}

var _ ChangeObserver = (*Indexer)(nil)

// NewIndexer checks deps and returns the maintainer.
func NewIndexer(d IndexerDeps) *Indexer {
	if d.Memories == nil {
		panic("app: IndexerDeps needs Memories")
	}
	if d.Vectors != nil && d.Embedder == nil {
		panic("app: IndexerDeps.Vectors needs an Embedder")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.FullRepairEvery <= 0 {
		d.FullRepairEvery = 12
	}
	return &Indexer{d: d, pending: map[domain.Tenant]map[domain.MemoryID]struct{}{}, suspect: map[domain.OrgID]int{}}
}

// Bind ties the vector index to the embedder's model and dimension, learning
// the dimension with one probe embedding when the embedder does not know it
// yet. A vector index holding another model refuses with an error naming
// `engram reindex`. Call it once at start, before serving.
func (x *Indexer) Bind(ctx context.Context) error {
	if x.d.Vectors == nil {
		return nil
	}
	if x.d.Embedder.Dimension() == 0 {
		if _, err := x.d.Embedder.Embed(ctx, []string{"dimension probe"}); err != nil {
			return fmt.Errorf("indexer: learn embedding dimension: %w", err)
		}
	}
	space := ports.VectorSpace{Model: x.d.Embedder.Model(), Dimension: x.d.Embedder.Dimension()}
	if err := x.d.Vectors.Bind(ctx, space); err != nil {
		return fmt.Errorf("indexer: %w", err)
	}
	return nil
}

// MemoriesChanged syncs ids, plus any ids of the tenant still pending.
func (x *Indexer) MemoriesChanged(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) error {
	all := x.takePending(t, ids)
	if err := x.Sync(ctx, t, all); err != nil {
		x.addPending(t, all)
		return err
	}
	return nil
}

// RetryPending syncs every pending id; ids that fail again stay pending.
func (x *Indexer) RetryPending(ctx context.Context) error {
	x.mu.Lock()
	tenants := make([]domain.Tenant, 0, len(x.pending))
	for t := range x.pending {
		tenants = append(tenants, t)
	}
	x.mu.Unlock()
	var errs []error
	for _, t := range tenants {
		if err := x.MemoriesChanged(ctx, t, nil); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Pending counts ids whose index update failed and awaits a retry.
func (x *Indexer) Pending() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := 0
	for _, ids := range x.pending {
		n += len(ids)
	}
	return n
}

func (x *Indexer) takePending(t domain.Tenant, ids []domain.MemoryID) []domain.MemoryID {
	x.mu.Lock()
	defer x.mu.Unlock()
	p := x.pending[t]
	if len(p) == 0 {
		return ids
	}
	out := append([]domain.MemoryID(nil), ids...)
	for id := range p {
		out = append(out, id)
	}
	delete(x.pending, t)
	return out
}

func (x *Indexer) addPending(t domain.Tenant, ids []domain.MemoryID) {
	x.mu.Lock()
	defer x.mu.Unlock()
	p := x.pending[t]
	if p == nil {
		p = map[domain.MemoryID]struct{}{}
		x.pending[t] = p
	}
	for _, id := range ids {
		p[id] = struct{}{}
	}
}
