package app

import (
	"context"
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
	if herr != nil {
		return nil // the feed will index it again: harmless, only slower
	}
	f.mu.Lock()
	for _, id := range ids {
		if head > f.cursor {
			f.seen[id] = max(f.seen[id], head)
		}
	}
	f.mu.Unlock()
	return nil
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
