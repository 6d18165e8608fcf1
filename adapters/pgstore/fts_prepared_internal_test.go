package pgstore

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// TestSearchRunsAPreparedStatement: a search is prepared once on the
// connection and reused, not parsed on every call (issue 14), on a pool of
// one connection (preparing must not wait for a connection the search's
// transaction holds).
func TestSearchRunsAPreparedStatement(t *testing.T) {
	ctx := context.Background()
	s := oneConnStore(t)
	x := s.TextIndex(TextOptions{})
	tn := domain.Tenant{OrgID: "o", UserID: "u"}
	want := domain.NewMemoryID(time.Now())
	require.NoError(t, x.Index(ctx, tn, []ports.TextDoc{{ID: want, AppID: "a", Text: "We adopted a beagle from the shelter", CreatedAt: time.Now()}}))
	prepared := func() int {
		var n int
		require.NoError(t, s.db.QueryRowContext(ctx, `SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%WITH cand AS%'`).Scan(&n))
		return n
	}
	for _, q := range []string{"when did we adopt the beagle?", "beagle shelter", "what did we adopt from the shelter last spring?"} {
		hits, err := x.Search(ctx, tn, q, 10, domain.SearchFilter{})
		require.NoError(t, err)
		require.Equal(t, want, hits[0].ID, q)
		require.Equal(t, 1, prepared(), "one prepared search statement on the connection, reused")
	}
}
