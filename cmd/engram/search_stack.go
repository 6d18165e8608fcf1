package main

import (
	"context"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/ports"
)

// searchStore is a system of record that also hosts a text index and can be
// scanned for rebuilds: sqlitestore and pgstore both are.
type searchStore interface {
	ports.MemoryStore
	ports.AppStore
	ports.AccessLog
	ports.MemoryScanner
}

// searchStack wires the search half of Engram over an open store: its text
// index, an in-process vector index, an embedder, the indexer observing
// MemoryService writes and the SearchService. cmd/internal/wiring can adopt
// it as is.
type searchStack struct {
	Store    searchStore
	Text     ports.TextIndex
	Vectors  *inproc.VectorIndex
	Embedder ports.Embedder
	Indexer  *app.Indexer
	Memories *app.MemoryService
	Search   *app.SearchService
}

// embedderConfig selects the embedder; the choice itself lives in wiring.
type embedderConfig = wiring.EmbedderConfig

// newSearchStack builds the stack and binds the vector index; with load set
// it fills the vector index from the store (what engramd does at start).
func newSearchStack(ctx context.Context, st searchStore, ec embedderConfig, load bool) (*searchStack, error) {
	return newSearchStackWith(ctx, st, ec, load, app.SearchDeps{})
}

// newSearchStackWith is newSearchStack with tuning knobs (RRFK,
// VectorFloor, Centering, VectorTrust, GapBoost, PinGap) taken from tune.
func newSearchStackWith(ctx context.Context, st searchStore, ec embedderConfig, load bool, tune app.SearchDeps) (*searchStack, error) {
	emb, err := wiring.NewEmbedder(ec)
	if err != nil {
		return nil, err
	}
	text, err := wiring.TextIndexOf(st)
	if err != nil {
		return nil, err
	}
	s := &searchStack{Store: st, Text: text, Vectors: inproc.NewVectorIndex(), Embedder: emb}
	s.Indexer = app.NewIndexer(app.IndexerDeps{Memories: st, Scanner: st, Text: text, Vectors: s.Vectors, Embedder: emb})
	if err := s.Indexer.Bind(ctx); err != nil {
		return nil, err
	}
	if load {
		// The in-process vectors start empty: fill them from the store, then
		// heal any text index drift a crash left behind.
		if _, err := s.Indexer.Reindex(ctx, app.ReindexOptions{Vectors: true}); err != nil {
			return nil, err
		}
		if _, err := s.Indexer.Repair(ctx); err != nil {
			return nil, err
		}
	}
	s.Memories = app.NewMemoryService(app.MemoryDeps{Memories: st, Apps: st, Access: st, Observers: []app.ChangeObserver{s.Indexer}})
	s.Search = app.NewSearchService(app.SearchDeps{Memories: st, Text: text, Vectors: s.Vectors, Embedder: emb, Reads: s.Memories,
		RRFK: tune.RRFK, VectorFloor: tune.VectorFloor, Centering: tune.Centering,
		VectorTrust: tune.VectorTrust, ShortQuery: tune.ShortQuery, GapBoost: tune.GapBoost, PinGap: tune.PinGap})
	return s, nil
}
