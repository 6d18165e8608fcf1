package app

import (
	"context"
	"errors"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/domain/extract"
	"github.com/engram-memory/engram/ports"
)

// EntityLinker keeps the entity graph in step with the memories. It is a
// ChangeObserver: after every committed add, update, state change, delete
// or erase it reloads the named memories and links each to the entities
// its text names (the offline extractor, domain/extract), or unlinks it
// when it is deleted, erased or gone. Reloading makes it idempotent and
// immune to reordering, like the Indexer. A failure is returned (and
// logged by MemoryService); the memory's next change or `engram reindex`
// links it again.
type EntityLinker struct {
	Memories ports.MemoryStore
	Entities ports.EntityStore
	Clock    ports.Clock
}

var _ ChangeObserver = (*EntityLinker)(nil)

// MemoriesChanged implements ChangeObserver.
func (l *EntityLinker) MemoriesChanged(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) error {
	var errs []error
	for _, id := range ids {
		errs = append(errs, l.Link(ctx, t, id))
	}
	return errors.Join(errs...)
}

// Link (re)links one memory.
func (l *EntityLinker) Link(ctx context.Context, t domain.Tenant, id domain.MemoryID) error {
	now := time.Now()
	if l.Clock != nil {
		now = l.Clock.Now()
	}
	m, err := l.Memories.Get(ctx, t, id)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return l.Entities.LinkMemory(ctx, t, id, nil, now)
	case err != nil:
		return err
	case m.State == domain.StateDeleted || m.Text == "":
		return l.Entities.LinkMemory(ctx, t, id, nil, now)
	}
	return l.Entities.LinkMemory(ctx, t, id, extract.Entities(m.Text), now)
}
