package intercept

import (
	"context"
	"encoding/json"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// WrapText decorates a text index; its writes are idempotent by contract
// and retried.
func WrapText(next ports.TextIndex, dep string, ic Interceptor) ports.TextIndex {
	return text{base{dep, ic}, next}
}

type text struct {
	base
	next ports.TextIndex
}

func (x text) Index(ctx context.Context, t domain.Tenant, docs []ports.TextDoc) error {
	return x.do(ctx, "text_index", read, func(ctx context.Context) error { return x.next.Index(ctx, t, docs) })
}

func (x text) Delete(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) error {
	return x.do(ctx, "text_delete", read, func(ctx context.Context) error { return x.next.Delete(ctx, t, ids) })
}

func (x text) Search(ctx context.Context, t domain.Tenant, q string, k int, f domain.SearchFilter) (hs []ports.Hit, err error) {
	err = x.do(ctx, "text_search", read, func(ctx context.Context) (e error) { hs, e = x.next.Search(ctx, t, q, k, f); return })
	return hs, err
}

// WrapVectors decorates a vector index; all its calls are idempotent.
func WrapVectors(next ports.VectorIndex, dep string, ic Interceptor) ports.VectorIndex {
	return vectors{base{dep, ic}, next}
}

type vectors struct {
	base
	next ports.VectorIndex
}

func (x vectors) Bind(ctx context.Context, s ports.VectorSpace) error {
	return x.do(ctx, "vector_bind", read, func(ctx context.Context) error { return x.next.Bind(ctx, s) })
}

func (x vectors) Upsert(ctx context.Context, t domain.Tenant, docs []ports.VectorDoc) error {
	return x.do(ctx, "vector_upsert", read, func(ctx context.Context) error { return x.next.Upsert(ctx, t, docs) })
}

func (x vectors) Delete(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) error {
	return x.do(ctx, "vector_delete", read, func(ctx context.Context) error { return x.next.Delete(ctx, t, ids) })
}

func (x vectors) Search(ctx context.Context, t domain.Tenant, v []float32, k int, f domain.SearchFilter) (hs []ports.Hit, err error) {
	err = x.do(ctx, "vector_search", read, func(ctx context.Context) (e error) { hs, e = x.next.Search(ctx, t, v, k, f); return })
	return hs, err
}

// WrapEmbedder decorates an embedder; Model and Dimension are local reads
// and pass through.
func WrapEmbedder(next ports.Embedder, dep string, ic Interceptor) ports.Embedder {
	return embedder{base{dep, ic}, next}
}

type embedder struct {
	base
	next ports.Embedder
}

func (x embedder) Embed(ctx context.Context, texts []string) (vs [][]float32, err error) {
	err = x.do(ctx, "embed", read, func(ctx context.Context) (e error) { vs, e = x.next.Embed(ctx, texts); return })
	return vs, err
}

func (x embedder) Model() string  { return x.next.Model() }
func (x embedder) Dimension() int { return x.next.Dimension() }

// WrapLLM decorates a chat model. A chat has no side effects, but the
// adapter retries 429, 5xx and timeouts itself, so the call is marked not
// idempotent: a policy retry would multiply with the adapter's.
func WrapLLM(next ports.LLM, dep string, ic Interceptor) ports.LLM {
	return llm{base{dep, ic}, next}
}

type llm struct {
	base
	next ports.LLM
}

func (x llm) Chat(ctx context.Context, req ports.ChatRequest) (out json.RawMessage, err error) {
	err = x.do(ctx, "chat", write, func(ctx context.Context) (e error) { out, e = x.next.Chat(ctx, req); return })
	return out, err
}

func (x llm) Model() string { return x.next.Model() }
