package app

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var allStates = []domain.State{domain.StateActive, domain.StatePaused, domain.StateArchived, domain.StateDeleted}

// Sync makes the indexes agree with the store for ids: active memories are
// (re-)indexed, every other id — paused, archived, deleted, erased or
// unknown — is removed.
func (x *Indexer) Sync(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) error {
	return x.sync(ctx, t, ids, nil)
}

// sync is Sync taking vectors from g where it holds them (nil: none).
func (x *Indexer) sync(ctx context.Context, t domain.Tenant, ids []domain.MemoryID, g *givenVectors) error {
	for start := 0; start < len(ids); start += domain.MaxListLimit {
		chunk := dedupe(ids[start:min(start+domain.MaxListLimit, len(ids))])
		// On the primary: the index must follow the store as it is now, not
		// as a lagging replica last saw it.
		page, err := x.d.Memories.List(ports.WithPrimaryReads(ctx), t, domain.ListQuery{IDs: chunk, States: allStates, Limit: len(chunk)})
		if err != nil {
			return fmt.Errorf("indexer: load %d memories: %w", len(chunk), err)
		}
		active := make([]domain.Memory, 0, len(page.Items))
		isActive := make(map[domain.MemoryID]bool, len(page.Items))
		for _, m := range page.Items {
			if m.State == domain.StateActive {
				active = append(active, m)
				isActive[m.ID] = true
			}
		}
		gone := make([]domain.MemoryID, 0, len(chunk)-len(active))
		for _, id := range chunk {
			if !isActive[id] {
				gone = append(gone, id)
			}
		}
		if err := x.write(ctx, t, active, gone, x.d.TextRelayed, x.d.VectorsRelayed, g); err != nil {
			return err
		}
	}
	return nil
}

// apply writes both indexes, concurrently (the text write waits on the
// database while embedding keeps a CPU busy); both are attempted even when
// one fails, so a down vector backend does not hold back lexical search.
func (x *Indexer) apply(ctx context.Context, t domain.Tenant, active []domain.Memory, gone []domain.MemoryID) error {
	return x.write(ctx, t, active, gone, x.d.TextRelayed, x.d.VectorsRelayed, nil)
}

// write is apply with the relayed indexes chosen: Reindex writes every
// index, change notices only those no relay feeds.
func (x *Indexer) write(ctx context.Context, t domain.Tenant, active []domain.Memory, gone []domain.MemoryID, skipText, skipVectors bool, g *givenVectors) error {
	var textErr, vecErr error
	var wg sync.WaitGroup
	if x.d.Text != nil && !skipText {
		wg.Go(func() {
			if err := x.d.Text.Delete(ctx, t, gone); err != nil {
				textErr = fmt.Errorf("indexer: text delete: %w", err)
			} else if err := x.d.Text.Index(ctx, t, textDocs(active)); err != nil {
				textErr = fmt.Errorf("indexer: text index: %w", err)
			}
		})
	}
	if r, ok := x.d.Vectors.(interface{ Resident(domain.Tenant) bool }); ok && !r.Resident(t) {
		// A budgeted cache (VectorCache) without the tenant: it reads the
		// store when it pages the tenant in, so embedding now is waste.
		// (A page-in that started before this check holds the tenant.)
		skipVectors = true
	}
	if x.d.Vectors != nil && !skipVectors {
		if err := x.d.Vectors.Delete(ctx, t, gone); err != nil {
			vecErr = fmt.Errorf("indexer: vector delete: %w", err)
		} else if docs, err := x.vectorDocsGiven(ctx, active, g); err != nil {
			vecErr = fmt.Errorf("indexer: embed: %w", err)
		} else if err := x.d.Vectors.Upsert(ctx, t, docs); err != nil {
			vecErr = fmt.Errorf("indexer: vector upsert: %w", err)
		}
	}
	wg.Wait()
	return errors.Join(textErr, vecErr)
}

func textDocs(ms []domain.Memory) []ports.TextDoc {
	out := make([]ports.TextDoc, len(ms))
	for i, m := range ms {
		out[i] = ports.TextDoc{ID: m.ID, Text: m.Text, AppID: m.AppID, Categories: m.Categories, Metadata: m.Metadata, CreatedAt: m.CreatedAt, Hash: m.ContentHash}
	}
	return out
}

func (x *Indexer) vectorDocs(ctx context.Context, ms []domain.Memory) ([]ports.VectorDoc, error) {
	return embedDocs(ctx, x.d.Embedder, ms)
}

// embedDocs embeds ms into the documents of a vector index.
func embedDocs(ctx context.Context, emb ports.Embedder, ms []domain.Memory) ([]ports.VectorDoc, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	texts := make([]string, len(ms))
	for i, m := range ms {
		texts[i] = m.Text
	}
	vs, err := embedParallel(ctx, emb, texts)
	if err != nil {
		return nil, err
	}
	if len(vs) != len(ms) {
		return nil, fmt.Errorf("embedder returned %d vectors for %d texts: %w", len(vs), len(ms), domain.ErrUnavailable)
	}
	out := make([]ports.VectorDoc, len(ms))
	for i, m := range ms {
		out[i] = ports.VectorDoc{ID: m.ID, Vector: vs[i], AppID: m.AppID, Categories: m.Categories, Metadata: m.Metadata, CreatedAt: m.CreatedAt}
	}
	return out, nil
}

// embedParallel splits big batches across CPUs (Embed is safe for
// concurrent use): the local embedder is CPU-bound, a remote one gets a few
// requests in flight.
func embedParallel(ctx context.Context, emb ports.Embedder, texts []string) ([][]float32, error) {
	parts := min(runtime.GOMAXPROCS(0), len(texts)/64)
	if parts < 2 {
		return emb.Embed(ctx, texts)
	}
	out := make([][]float32, len(texts))
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := len(texts)*p/parts, len(texts)*(p+1)/parts
		wg.Go(func() {
			vs, err := emb.Embed(ctx, texts[lo:hi])
			if err == nil && len(vs) != hi-lo {
				err = fmt.Errorf("embedder returned %d vectors for %d texts: %w", len(vs), hi-lo, domain.ErrUnavailable)
			}
			if err != nil {
				errs[p] = err
				return
			}
			copy(out[lo:hi], vs)
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

func dedupe(ids []domain.MemoryID) []domain.MemoryID {
	seen := make(map[domain.MemoryID]bool, len(ids))
	out := make([]domain.MemoryID, 0, len(ids))
	for _, id := range ids {
		if !seen[id] && domain.ValidID(string(id)) {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
