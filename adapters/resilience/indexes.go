package resilience

import (
	"context"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// TextIndex guards a text index. Index and Delete are idempotent by
// contract (insert-or-replace by id, unknown ids ignored), so they retry
// like Search.
type TextIndex struct {
	next ports.TextIndex
	p    *Policy
}

// NewTextIndex decorates next with p.
func NewTextIndex(next ports.TextIndex, p *Policy) *TextIndex { return &TextIndex{next: next, p: p} }

func (x *TextIndex) Index(ctx context.Context, t domain.Tenant, docs []ports.TextDoc) error {
	_, err := do(ctx, x.p, "text_index", true, func(ctx context.Context) (struct{}, error) { return struct{}{}, x.next.Index(ctx, t, docs) })
	return err
}

func (x *TextIndex) Delete(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) error {
	_, err := do(ctx, x.p, "text_delete", true, func(ctx context.Context) (struct{}, error) { return struct{}{}, x.next.Delete(ctx, t, ids) })
	return err
}

func (x *TextIndex) Search(ctx context.Context, t domain.Tenant, query string, k int, f domain.SearchFilter) ([]ports.Hit, error) {
	return do(ctx, x.p, "text_search", true, func(ctx context.Context) ([]ports.Hit, error) { return x.next.Search(ctx, t, query, k, f) })
}

// VectorIndex guards a vector index; every method is idempotent by contract.
type VectorIndex struct {
	next ports.VectorIndex
	p    *Policy
}

// NewVectorIndex decorates next with p.
func NewVectorIndex(next ports.VectorIndex, p *Policy) *VectorIndex {
	return &VectorIndex{next: next, p: p}
}

func (x *VectorIndex) Bind(ctx context.Context, space ports.VectorSpace) error {
	_, err := do(ctx, x.p, "vector_bind", true, func(ctx context.Context) (struct{}, error) { return struct{}{}, x.next.Bind(ctx, space) })
	return err
}

func (x *VectorIndex) Upsert(ctx context.Context, t domain.Tenant, docs []ports.VectorDoc) error {
	_, err := do(ctx, x.p, "vector_upsert", true, func(ctx context.Context) (struct{}, error) { return struct{}{}, x.next.Upsert(ctx, t, docs) })
	return err
}

func (x *VectorIndex) Delete(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) error {
	_, err := do(ctx, x.p, "vector_delete", true, func(ctx context.Context) (struct{}, error) { return struct{}{}, x.next.Delete(ctx, t, ids) })
	return err
}

func (x *VectorIndex) Search(ctx context.Context, t domain.Tenant, vector []float32, k int, f domain.SearchFilter) ([]ports.Hit, error) {
	return do(ctx, x.p, "vector_search", true, func(ctx context.Context) ([]ports.Hit, error) { return x.next.Search(ctx, t, vector, k, f) })
}

// Embedder guards an embedder. Embedding is a pure function of its input,
// so it retries (a paid API may bill the retry; the breaker bounds that).
type Embedder struct {
	next ports.Embedder
	p    *Policy
}

// NewEmbedder decorates next with p.
func NewEmbedder(next ports.Embedder, p *Policy) *Embedder { return &Embedder{next: next, p: p} }

func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	return do(ctx, e.p, "embed", true, func(ctx context.Context) ([][]float32, error) { return e.next.Embed(ctx, texts) })
}

func (e *Embedder) Model() string  { return e.next.Model() }
func (e *Embedder) Dimension() int { return e.next.Dimension() }
