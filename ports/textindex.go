package ports

import (
	"context"
	"time"

	"github.com/engram-memory/engram/domain"
)

// TextDoc is what a text index stores for one memory.
type TextDoc struct {
	ID         domain.MemoryID
	Text       string
	AppID      domain.AppID
	Categories []string
	Metadata   domain.Metadata
	CreatedAt  time.Time
	// Hash is the memory's content hash as its store keeps it
	// (domain.Memory.ContentHash: keyed with the subject's data key when
	// the text is sealed). An index that detects drift by comparing it
	// with the store's keeps it; "" means domain.ContentHash(Text).
	Hash string
	// Version, when not 0, is the outbox version the entry stands for
	// (ports.OutboxRow.Version). An index that can compare versions
	// (Elasticsearch's external versioning) keeps the entry with the
	// higher one, so a relay that lost its claim cannot overwrite a newer
	// entry with an older one.
	Version int64
}

// TextIndex ranks a tenant's memories by lexical relevance to a query.
//
// Tenancy: as VectorIndex; identical text in two tenants never crosses.
//
// Index inserts or replaces entries by id, idempotently, visible to the next
// Search once it returns; when one call names an id twice, the last wins. Delete removes entries by id; unknown ids are
// ignored. Search returns at most k hits (k in 1..1000, else
// domain.ErrInvalid) that pass the filter, most relevant first (BM25 or the
// backend's equivalent; ties by id).
//
// Queries are plain text, never a query language: quotes, *, NEAR(, OR,
// AND NOT, :, -x, ^, (, ', \, % and _ are searched as text (or ignored as
// punctuation) and never cause an error or act as an operator. Matching is
// by words, case-insensitive, Unicode-aware; a document containing the query
// as an exact phrase ranks above one that holds the same words scattered.
// An empty or punctuation-only query returns no hits and no error.
//
// Safe for concurrent use. Backend failures wrap domain.ErrUnavailable.
type TextIndex interface {
	Index(ctx context.Context, t domain.Tenant, docs []TextDoc) error
	Delete(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) error
	Search(ctx context.Context, t domain.Tenant, query string, k int, f domain.SearchFilter) ([]Hit, error)
}
