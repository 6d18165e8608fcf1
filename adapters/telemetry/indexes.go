package telemetry

import (
	"context"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// TextIndex traces and measures a text index.
type TextIndex struct {
	next ports.TextIndex
	t    *T
	dep  string
}

// TextIndex decorates next.
func (t *T) TextIndex(dep string, next ports.TextIndex) *TextIndex {
	return &TextIndex{next: next, t: t, dep: dep}
}

func (x *TextIndex) Index(ctx context.Context, t domain.Tenant, docs []ports.TextDoc) error {
	return run(ctx, x.t, x.dep, "text_index", func(ctx context.Context) error { return x.next.Index(ctx, t, docs) })
}

func (x *TextIndex) Delete(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) error {
	return run(ctx, x.t, x.dep, "text_delete", func(ctx context.Context) error { return x.next.Delete(ctx, t, ids) })
}

func (x *TextIndex) Search(ctx context.Context, t domain.Tenant, query string, k int, f domain.SearchFilter) ([]ports.Hit, error) {
	return call(ctx, x.t, x.dep, "text_search", func(ctx context.Context) ([]ports.Hit, error) { return x.next.Search(ctx, t, query, k, f) })
}

// VectorIndex traces and measures a vector index.
type VectorIndex struct {
	next ports.VectorIndex
	t    *T
	dep  string
}

// VectorIndex decorates next.
func (t *T) VectorIndex(dep string, next ports.VectorIndex) *VectorIndex {
	return &VectorIndex{next: next, t: t, dep: dep}
}

func (x *VectorIndex) Bind(ctx context.Context, space ports.VectorSpace) error {
	return run(ctx, x.t, x.dep, "vector_bind", func(ctx context.Context) error { return x.next.Bind(ctx, space) })
}

func (x *VectorIndex) Upsert(ctx context.Context, t domain.Tenant, docs []ports.VectorDoc) error {
	return run(ctx, x.t, x.dep, "vector_upsert", func(ctx context.Context) error { return x.next.Upsert(ctx, t, docs) })
}

func (x *VectorIndex) Delete(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) error {
	return run(ctx, x.t, x.dep, "vector_delete", func(ctx context.Context) error { return x.next.Delete(ctx, t, ids) })
}

func (x *VectorIndex) Search(ctx context.Context, t domain.Tenant, vector []float32, k int, f domain.SearchFilter) ([]ports.Hit, error) {
	return call(ctx, x.t, x.dep, "vector_search", func(ctx context.Context) ([]ports.Hit, error) { return x.next.Search(ctx, t, vector, k, f) })
}

// Embedder traces and measures an embedder.
type Embedder struct {
	next ports.Embedder
	t    *T
	dep  string
}

// Embedder decorates next.
func (t *T) Embedder(dep string, next ports.Embedder) *Embedder {
	return &Embedder{next: next, t: t, dep: dep}
}

func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	return call(ctx, e.t, e.dep, "embed", func(ctx context.Context) ([][]float32, error) { return e.next.Embed(ctx, texts) })
}

func (e *Embedder) Model() string  { return e.next.Model() }
func (e *Embedder) Dimension() int { return e.next.Dimension() }
