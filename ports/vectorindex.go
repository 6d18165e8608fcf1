package ports

import (
	"context"
	"time"

	"github.com/engram-memory/engram/domain"
)

// VectorDoc is what a vector index stores for one memory: its embedding and
// the fields a search may filter on. Only active memories are indexed; the
// index maintainer deletes a memory's entry when it leaves the active state.
type VectorDoc struct {
	ID         domain.MemoryID
	Vector     []float32 // unit length, VectorSpace().Dimension long
	AppID      domain.AppID
	Categories []string
	Metadata   domain.Metadata
	CreatedAt  time.Time
	// Version, when not 0, is the outbox version the entry stands for
	// (ports.OutboxRow.Version). An index that can compare versions
	// (Elasticsearch's external versioning) keeps the entry with the
	// higher one, so a relay that lost its claim cannot overwrite a newer
	// entry with an older one.
	Version int64
}

// Hit is one search result: a memory id and the backend's similarity or
// relevance score, higher is better. Scores are comparable only within one
// answer of one index.
type Hit struct {
	ID    domain.MemoryID
	Score float64
}

// VectorSpace names the embedding model and dimension an index holds.
type VectorSpace struct {
	Model     string
	Dimension int
}

// VectorIndex finds a tenant's memories nearest to a query vector.
//
// Tenancy: every call takes the tenant; Search never returns an id of another
// org or of another user of the same org, whatever the vectors.
//
// Space guard: Bind(ctx, space) must be called before any other method. The
// first Bind of an empty index records the space; a later Bind with another
// model or dimension is refused with an error wrapping domain.ErrConflict
// whose message names `engram reindex` (vectors of two models are never
// mixed). A vector whose length is not the bound dimension wraps
// domain.ErrInvalid.
//
// Upsert inserts or replaces entries by id, idempotently; it is visible to the
// next Search once it returns. Delete removes entries by id; unknown ids are
// ignored (deleting twice is fine). Search returns at most k hits that pass
// the filter, best first (dot product of unit vectors, i.e. cosine; ties by
// id), k in 1..1000 (else domain.ErrInvalid). Safe for concurrent use.
// Backend failures wrap domain.ErrUnavailable.
type VectorIndex interface {
	Bind(ctx context.Context, space VectorSpace) error
	Upsert(ctx context.Context, t domain.Tenant, docs []VectorDoc) error
	Delete(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) error
	Search(ctx context.Context, t domain.Tenant, vector []float32, k int, f domain.SearchFilter) ([]Hit, error)
}

// VectorMultiSearcher is a VectorIndex that ranks for several query
// vectors in one pass over the tenant's vectors. Each result is what
// Search returns for that vector; an index that reads its rows from
// memory reads them once instead of once per vector.
type VectorMultiSearcher interface {
	SearchEach(ctx context.Context, t domain.Tenant, vectors [][]float32, k int, f domain.SearchFilter) ([][]Hit, error)
}

// MaxIndexK bounds k of VectorIndex.Search and TextIndex.Search.
const MaxIndexK = 1000
