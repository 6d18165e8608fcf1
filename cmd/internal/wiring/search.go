package wiring

import (
	"context"
	"fmt"
	"time"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/ports"
)

// searchParts are the derived indexes over the store and what keeps them in
// step with it.
type searchParts struct {
	text     ports.TextIndex
	vectors  ports.VectorIndex
	embedder ports.Embedder
	indexer  *app.Indexer
}

// openSearch builds the embedder, the store's own text index and the
// in-process vector index, binds the indexer (which refuses an index built
// with another model or dimension) and loads the vectors from the store.
func (s *System) openSearch(ctx context.Context) (*searchParts, error) {
	cfg := s.Config
	emb, err := NewEmbedder(EmbedderConfig{Kind: cfg.Embedder, URL: cfg.EmbedURL, APIKey: cfg.EmbedAPIKey, Model: cfg.EmbedModel})
	if err != nil {
		return nil, fmt.Errorf("ENGRAM_EMBEDDER: %w", err)
	}
	if cfg.Embedder == "openai" {
		// A remote call: deadline, retries and breaker. The local embedder
		// is in-process arithmetic and needs none.
		emb = s.decorateEmbedder("embedder", emb)
	}
	rawText, err := TextIndexOf(s.raw)
	if err != nil {
		return nil, err
	}
	drift, _ := rawText.(ports.IndexDrift) // the undecorated index: decorators hide it
	text := s.decorateText(s.storeName, rawText)
	scanner, ok := s.raw.(ports.MemoryScanner)
	if !ok {
		return nil, fmt.Errorf("wiring: store %T cannot be scanned for reindexing", s.raw)
	}
	// The in-process vector index is not decorated: it has no network to
	// time out or break, and the search reads its centroids, which a
	// decorator would hide. Its cost shows in the search spans.
	vectors := inproc.NewVectorIndex()
	ix := app.NewIndexer(app.IndexerDeps{Memories: s.Store, Scanner: scanner, Text: text, Vectors: vectors, Embedder: emb, Logger: s.Logger,
		Drift: drift})
	if err := ix.Bind(ctx); err != nil {
		return nil, err
	}
	start := time.Now()
	n, err := ix.Reindex(ctx, app.ReindexOptions{Vectors: true})
	if err != nil {
		return nil, fmt.Errorf("load vector index from the store: %w", err)
	}
	s.Logger.Info("vector index loaded from the store", "memories", n, "took_ms", time.Since(start).Milliseconds())
	// A crash between a store write and its index update leaves the text
	// index behind; its content hashes say exactly which entries lag.
	if fixed, err := ix.Repair(ctx); err != nil {
		s.Logger.Warn("text index repair failed; engram reindex rebuilds it", "err", err)
	} else if fixed > 0 {
		s.Logger.Info("text index repaired from the store", "memories", fixed)
	}
	s.Checks = append(s.Checks, httpapi.Check{Name: "search_index", Pending: ix.Pending,
		Probe: func(context.Context) error { return nil }})
	s.observeIndexer(ix)
	s.retryPendingLoop(ix)
	return &searchParts{text: text, vectors: vectors, embedder: emb, indexer: ix}, nil
}

// retryPendingLoop re-applies index changes that failed (an index or the
// embedder was down) until they succeed; the store stays the system of
// record meanwhile.
func (s *System) retryPendingLoop(ix *app.Indexer) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if ix.Pending() == 0 {
					continue
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				if err := ix.RetryPending(ctx); err != nil {
					s.Logger.Warn("index retry failed; will try again", "pending", ix.Pending(), "err", err)
				}
				cancel()
			}
		}
	}()
	s.onClose(func() error { close(stop); <-done; return nil })
}
