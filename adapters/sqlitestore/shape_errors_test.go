package sqlitestore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// hugeFilter has more metadata keys than SQLite's expression-tree depth
// allows in one statement.
func hugeFilter(n int) domain.Metadata {
	md := domain.Metadata{}
	for i := range n {
		md[fmt.Sprintf("k%04d", i)] = "v"
	}
	return md
}

// A statement SQLite refuses for its shape (expression tree too deep, too
// many variables) is the caller's input, not an outage: it must be
// ErrInvalid so no breaker counts it and no policy retries it.
func TestStatementShapeRefusalsAreInvalidNotUnavailable(t *testing.T) {
	ctx := context.Background()
	s := openSearchStore(t)
	ten := domain.Tenant{OrgID: "org-shape", UserID: "user-shape"}
	now := time.Now().UTC()
	m, _, err := s.Create(ctx, ten, domain.Memory{
		ID: domain.NewMemoryID(now), OrgID: ten.OrgID, UserID: ten.UserID, AppID: "app",
		Text: "prefers green tea", State: domain.StateActive, CreatedAt: now, UpdatedAt: now,
		ContentHash: domain.ContentHash("prefers green tea"), Metadata: domain.Metadata{}, Categories: []string{},
	})
	require.NoError(t, err)
	x := s.TextIndex()
	require.NoError(t, x.Index(ctx, ten, []ports.TextDoc{{ID: m.ID, Text: m.Text, AppID: m.AppID, CreatedAt: now}}))

	for _, n := range []int{1100, 40000} {
		_, err = x.Search(ctx, ten, "green tea", 10, domain.SearchFilter{Metadata: hugeFilter(n)})
		require.ErrorIs(t, err, domain.ErrInvalid, "text search with %d filter keys", n)
		require.NotErrorIs(t, err, domain.ErrUnavailable)

		_, err = s.List(ctx, ten, domain.ListQuery{Limit: 10, Metadata: hugeFilter(n)})
		require.ErrorIs(t, err, domain.ErrInvalid, "list with %d filter keys", n)
		require.NotErrorIs(t, err, domain.ErrUnavailable)
	}
}
