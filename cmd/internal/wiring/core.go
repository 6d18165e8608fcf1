package wiring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// Core is the memory and search use cases over one store and its search
// backends, with the indexer that keeps the indexes in step: what engramd
// serves and what the CLI's offline commands (reindex, eval, tune-fusion,
// bench-search) drive directly.
type Core struct {
	Memories *app.MemoryService
	Search   *app.SearchService
	Indexer  *app.Indexer
	// Follower indexes other processes' writes from the store's change
	// feed; set when CoreOptions.Load is and the store has a feed. Run it.
	Follower *app.ChangeFollower
	// Relays feed the external indexes (Qdrant, Elasticsearch) from the
	// store's durable outbox; set when CoreOptions.Load is. Run them.
	Relays []*app.IndexRelay
	// Graph serves entities and the graph; nil when the store has no
	// entity tables.
	Graph *app.GraphService
	// Unbound is set when the vector index could not be bound at start
	// (it was unreachable); Build retries the Bind in the background.
	Unbound bool
}

// Close flushes the memory service's queued access-log entries; call it
// before closing the store.
func (c Core) Close() { c.Memories.Close() }

// CoreOptions tune NewCore.
type CoreOptions struct {
	// Load fills an in-process vector index from the store and repairs text
	// index drift a crash left behind (what a serving process does at start).
	Load bool
	// Tune carries search's tuning knobs (RRFK, VectorFloor, Centering,
	// VectorTrust, ShortQuery, GapBoost, PinGap); its ports are ignored.
	Tune   app.SearchDeps
	Logger *slog.Logger
	// Guard, when set, refuses writes by a user whose erasure has started.
	Guard app.WriteGuard
	// Relay tunes the outbox relays of a serving process (Load).
	Relay app.RelayOptions
	// TTLs, when set, gives new memories their app's default expiry.
	TTLs app.DefaultTTLs
}

// NewCore wires the use cases over b and s as given (decorated or not) and
// binds the indexer, which refuses an index built with another model or
// dimension.
func NewCore(ctx context.Context, b Backend, s Search, o CoreOptions) (Core, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	unbound := false
	// A serving process feeds the external indexes through the outbox
	// relay, never from its change notices: those are lost in a crash,
	// the outbox is not.
	relayText := o.Load && b.Outbox != nil && s.TextExternal()
	relayVectors := o.Load && b.Outbox != nil && s.VectorsExternal()
	ix := app.NewIndexer(app.IndexerDeps{
		Memories: b.Memories, Scanner: b.Scanner, Text: s.Text, Vectors: s.Vectors, Embedder: s.Embedder,
		Drift: s.Drift, Logger: log, TextRelayed: relayText, VectorsRelayed: relayVectors,
	})
	var relays []*app.IndexRelay
	for _, r := range []struct {
		on     bool
		name   string
		target app.RelayTarget
	}{
		{relayVectors, s.VectorsName, app.VectorTarget{Index: s.Vectors, Embedder: s.Embedder}},
		{relayText, s.TextName, app.TextTarget{Index: s.Text}},
	} {
		if !r.on {
			continue
		}
		if err := b.Outbox.Register(ctx, r.name); err != nil {
			return Core{}, fmt.Errorf("register %s with the index outbox: %w", r.name, err)
		}
		relays = append(relays, app.NewIndexRelay(r.name, b.Outbox, b.Memories, r.target, o.Relay, log))
	}
	if err := ix.Bind(ctx); err != nil {
		// An external vector index (or remote embedder) that is down at
		// start leaves vector search degraded until a later Bind succeeds
		// (BindLater); a refusal (another model) still stops the start.
		if !o.Load || !s.VectorsExternal() || !errors.Is(err, domain.ErrUnavailable) {
			return Core{}, err
		}
		log.Warn("vector index unreachable at start: search is lexical-only until it binds", "err", err)
		unbound = true
	}
	var observer app.ChangeObserver = ix
	var follower *app.ChangeFollower
	if o.Load {
		if b.Feed != nil {
			// The head before the load: what commits during it is
			// indexed again by the follower, which is harmless.
			head, err := b.Feed.Head(ctx)
			if err != nil {
				return Core{}, fmt.Errorf("read the store's change feed: %w", err)
			}
			follower = app.NewChangeFollower(b.Feed, ix, head, log)
			observer = follower
		}
		if err := load(ctx, ix, s, log); err != nil {
			return Core{}, err
		}
	}
	observers := []app.ChangeObserver{observer}
	for _, r := range relays {
		observers = append(observers, r) // wakes it: the rows are committed
	}
	var graph *app.GraphService
	if b.Entities != nil {
		// Links follow every committed write of this process (docs/entities.md).
		observers = append(observers, &app.EntityLinker{Memories: b.Memories, Entities: b.Entities})
		graph = &app.GraphService{Memories: b.Memories, Entities: b.Entities}
	}
	mem := app.NewMemoryService(app.MemoryDeps{
		Memories: b.Memories, Apps: b.Apps, Access: b.Access, Logger: log,
		Observers: observers, Outcomes: ix, Guard: o.Guard, TTLs: o.TTLs,
	})
	t := o.Tune
	search := app.NewSearchService(app.SearchDeps{
		Memories: b.Memories, Text: s.Text, Vectors: s.Vectors, Embedder: s.Embedder, Entities: b.Entities, Reads: mem, Logger: log,
		RRFK: t.RRFK, VectorFloor: t.VectorFloor, Centering: t.Centering,
		VectorTrust: t.VectorTrust, ShortQuery: t.ShortQuery, GapBoost: t.GapBoost, PinGap: t.PinGap,
	})
	return Core{Memories: mem, Search: search, Indexer: ix, Follower: follower, Relays: relays, Unbound: unbound, Graph: graph}, nil
}

// load fills the in-process vectors (they start empty) and heals the text
// index (a crash between a store write and its index update leaves it
// behind, and its content hashes say exactly which entries lag), in one
// pass over the store's active memories.
func load(ctx context.Context, ix *app.Indexer, s Search, log *slog.Logger) error {
	start := time.Now()
	res, err := ix.Load(ctx, s.LoadVectors())
	if err != nil {
		return fmt.Errorf("load vector index from the store: %w", err)
	}
	if res.RepairErr != nil {
		log.Warn("text index repair failed; engram reindex rebuilds it", "err", res.RepairErr)
	}
	if s.LoadVectors() {
		log.Info("vector index loaded from the store", "memories", res.Vectors, "took_ms", time.Since(start).Milliseconds())
	}
	if s.VectorCache != nil {
		log.Info("vector index kept to a budget: tenants are paged in on their first search", "max_bytes", s.VectorCache.Stats().BudgetSize)
	}
	if res.Healed > 0 {
		log.Info("text index repaired from the store", "memories", res.Healed)
	}
	return nil
}
