package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// An archive may carry each memory's embedding (docs/archive.md,
// "Vectors"). An import whose archive's model and dimension are the
// configured embedder's hands them to the Indexer, which writes them into
// the vector index instead of embedding the memories again.

// ArchiveVectorSpace is the model and dimension archived vectors must have
// to be loaded: the configured embedder's. ok is false when the Indexer
// writes no vector index itself (none, or one an IndexRelay feeds from the
// outbox, which embeds).
func (x *Indexer) ArchiveVectorSpace(ctx context.Context) (ports.VectorSpace, bool, error) {
	if x.d.Vectors == nil || x.d.VectorsRelayed {
		return ports.VectorSpace{}, false, nil
	}
	if err := x.Bind(ctx); err != nil {
		return ports.VectorSpace{}, false, err
	}
	return ports.VectorSpace{Model: x.d.Embedder.Model(), Dimension: x.d.Embedder.Dimension()}, true, nil
}

// MemoriesChangedWithVectors is MemoriesChanged for imported memories with
// their archived vectors: an active memory whose stored text is the one
// its vector was computed from (TextSHA256) gets that vector; the others
// (no vector, another text kept by a skip-mode import, or a vector of
// another length) are embedded. Callers check the model and dimension
// first (ArchiveVectorSpace).
func (x *Indexer) MemoriesChangedWithVectors(ctx context.Context, t domain.Tenant, ids []domain.MemoryID, vecs []ports.ArchivedVector) (ports.ArchivedVectorLoad, error) {
	g := &givenVectors{byID: make(map[domain.MemoryID]ports.ArchivedVector, len(vecs))}
	if x.d.Embedder != nil {
		g.dim = x.d.Embedder.Dimension()
	}
	for _, v := range vecs {
		g.byID[v.ID] = v
	}
	all := x.takePending(t, ids)
	if err := x.sync(ctx, t, all, g); err != nil {
		x.addPending(t, all)
		return g.n, err
	}
	return g.n, nil
}

// givenVectors are archived vectors by memory id, and what became of them.
type givenVectors struct {
	byID map[domain.MemoryID]ports.ArchivedVector
	dim  int
	n    ports.ArchivedVectorLoad
}

// vectorDocsGiven is vectorDocs taking the vectors g holds for ms and
// embedding only the rest.
func (x *Indexer) vectorDocsGiven(ctx context.Context, ms []domain.Memory, g *givenVectors) ([]ports.VectorDoc, error) {
	if g == nil {
		return x.vectorDocs(ctx, ms)
	}
	docs := make([]ports.VectorDoc, 0, len(ms))
	var rest []domain.Memory
	for _, m := range ms {
		v, ok := g.byID[m.ID]
		sum := sha256.Sum256([]byte(m.Text))
		if !ok || len(v.Vector) != g.dim || v.TextSHA256 != hex.EncodeToString(sum[:]) {
			rest = append(rest, m)
			continue
		}
		docs = append(docs, ports.VectorDoc{ID: m.ID, Vector: v.Vector, AppID: m.AppID, Categories: m.Categories, Metadata: m.Metadata, CreatedAt: m.CreatedAt})
	}
	embedded, err := x.vectorDocs(ctx, rest)
	if err != nil {
		return nil, err
	}
	g.n.Loaded += len(docs)
	g.n.Embedded += len(embedded)
	return append(docs, embedded...), nil
}
