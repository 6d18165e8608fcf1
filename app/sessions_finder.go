package app

import (
	"context"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// TextFinder is a MemoryFinder over a text index alone (BM25 in SQLite FTS5
// or Postgres full-text), for session context where no hybrid search service
// is wired. It ranks with the index, then loads the memories through
// MemoryService.List, which checks scopes, keeps only active memories and
// records the read in the access log.
type TextFinder struct {
	Text     ports.TextIndex
	Memories *MemoryService
}

// FindMemories implements MemoryFinder.
func (f TextFinder) FindMemories(ctx context.Context, p domain.Principal, query string, limit int) ([]domain.Memory, error) {
	hits, err := f.Text.Search(ctx, p.Tenant(), query, limit, domain.SearchFilter{})
	if err != nil || len(hits) == 0 {
		return nil, err
	}
	ids := make([]domain.MemoryID, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	page, err := f.Memories.List(ctx, p, domain.ListQuery{IDs: ids, States: []domain.State{domain.StateActive}, Limit: len(ids)}, "")
	if err != nil {
		return nil, err
	}
	// List orders by id; put them back in relevance order. An index entry
	// whose memory was since deleted is dropped.
	byID := make(map[domain.MemoryID]domain.Memory, len(page.Items))
	for _, m := range page.Items {
		byID[m.ID] = m
	}
	out := make([]domain.Memory, 0, len(page.Items))
	for _, id := range ids {
		if m, ok := byID[id]; ok {
			out = append(out, m)
		}
	}
	return out, nil
}
