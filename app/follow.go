package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// ChangeFollower keeps this process's indexes in step with every write to a
// shared store, its own and other processes' alike: engramd and `engram mcp`
// on one SQLite file, or engramd replicas on one PostgreSQL, each hold an
// in-process vector index that only the store's change feed can tell about
// the others' writes.
//
// Its own writes reach it first as a ChangeObserver (MemoryService calls it
// after the commit) and are indexed at once, as before; Poll then reads the
// feed and indexes what other processes wrote. A change this process already
// indexed is not indexed twice: MemoriesChanged notes the feed's head before
// indexing, and Poll skips a change to that memory at or below that head,
// because the indexing reloaded the memory after that change committed.
type ChangeFollower struct {
	feed ports.ChangeFeed
	ix   ChangeObserver
	log  *slog.Logger

	poll   sync.Mutex // one Poll at a time
	mu     sync.Mutex
	cursor int64
	// seen maps a memory this process indexed itself to the feed head
	// noted before it did.
	seen map[domain.MemoryID]int64
}

var _ ChangeObserver = (*ChangeFollower)(nil)

// FollowBatch is how many changes one Poll reads at most.
const FollowBatch = 500

// NewChangeFollower follows feed from after (the head read before the
// indexes were loaded from the store), indexing through ix.
func NewChangeFollower(feed ports.ChangeFeed, ix ChangeObserver, after int64, log *slog.Logger) *ChangeFollower {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &ChangeFollower{feed: feed, ix: ix, log: log, cursor: after, seen: map[domain.MemoryID]int64{}}
}

// MemoriesChanged indexes this process's own committed change now.
func (f *ChangeFollower) MemoriesChanged(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) error {
	head, herr := f.feed.Head(ctx)
	if err := f.ix.MemoriesChanged(ctx, t, ids); err != nil {
		return err
	}
	f.indexed(ids, head, herr)
	return nil
}

// indexed notes ids as indexed after the feed's head (read before
// indexing), so that Poll does not index them again.
func (f *ChangeFollower) indexed(ids []domain.MemoryID, head int64, herr error) {
	if herr != nil {
		return // the feed will index them again: harmless, only slower
	}
	f.mu.Lock()
	for _, id := range ids {
		if head > f.cursor {
			f.seen[id] = max(f.seen[id], head)
		}
	}
	f.mu.Unlock()
}

// archiveVectorIndexer is an observer that loads archived vectors
// (Indexer).
type archiveVectorIndexer interface {
	ArchiveVectorSpace(ctx context.Context) (ports.VectorSpace, bool, error)
	MemoriesChangedWithVectors(ctx context.Context, t domain.Tenant, ids []domain.MemoryID, vecs []ports.ArchivedVector) (ports.ArchivedVectorLoad, error)
}

// ArchiveVectorSpace is the indexer's (Indexer.ArchiveVectorSpace); ok is
// false when it loads no archived vectors.
func (f *ChangeFollower) ArchiveVectorSpace(ctx context.Context) (ports.VectorSpace, bool, error) {
	vx, ok := f.ix.(archiveVectorIndexer)
	if !ok {
		return ports.VectorSpace{}, false, nil
	}
	return vx.ArchiveVectorSpace(ctx)
}

// MemoriesChangedWithVectors is MemoriesChanged for imported memories with
// their archived vectors (Indexer.MemoriesChangedWithVectors). Callers
// check ArchiveVectorSpace first.
func (f *ChangeFollower) MemoriesChangedWithVectors(ctx context.Context, t domain.Tenant, ids []domain.MemoryID, vecs []ports.ArchivedVector) (ports.ArchivedVectorLoad, error) {
	vx, ok := f.ix.(archiveVectorIndexer)
	if !ok {
		return ports.ArchivedVectorLoad{}, fmt.Errorf("follower: the indexer loads no archived vectors: %w", domain.ErrInvalid)
	}
	head, herr := f.feed.Head(ctx)
	n, err := vx.MemoriesChangedWithVectors(ctx, t, ids, vecs)
	if err != nil {
		return n, err
	}
	f.indexed(ids, head, herr)
	return n, nil
}

// Poll indexes every change committed since the last Poll, batch by batch,
// and reports how many it applied. A change whose indexing fails stays
// pending in the indexer (retried like any failed sync); the cursor moves
// on either way, since the store holds the truth.
func (f *ChangeFollower) Poll(ctx context.Context) (int, error) {
	f.poll.Lock()
	defer f.poll.Unlock()
	applied := 0
	for {
		f.mu.Lock()
		after := f.cursor
		f.mu.Unlock()
		refs, err := f.feed.Changes(ctx, after, FollowBatch)
		if err != nil || len(refs) == 0 {
			return applied, err
		}
		byTenant := map[domain.Tenant][]domain.MemoryID{}
		f.mu.Lock()
		for _, r := range refs {
			if h, ok := f.seen[r.ID]; ok && r.Seq <= h {
				continue
			}
			byTenant[r.Tenant] = append(byTenant[r.Tenant], r.ID)
		}
		for _, r := range refs {
			// max: on PostgreSQL a change may commit after a higher seq.
			f.cursor = max(f.cursor, r.Seq)
		}
		for id, h := range f.seen {
			if h <= f.cursor {
				delete(f.seen, id)
			}
		}
		f.mu.Unlock()
		for t, ids := range byTenant {
			if err := f.ix.MemoriesChanged(ctx, t, ids); err != nil {
				f.log.Warn("indexing another process's change failed; it stays pending", "org", t.OrgID, "memories", len(ids), "err", err)
			}
			applied += len(ids)
		}
		if len(refs) < FollowBatch {
			return applied, nil
		}
	}
}

// Run polls every interval until ctx ends.
func (f *ChangeFollower) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := f.Poll(ctx); err != nil && ctx.Err() == nil {
				f.log.Warn("reading the store's change feed failed; will retry", "err", err)
			}
		}
	}
}
