package pgstore

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/contracttest"
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

// TestReplicaSearchRunsAPreparedStatement: a search a replica serves is
// prepared on the replica's pool too (in the background after the first
// one, which sends the text) and reused, on pools of one connection.
func TestReplicaSearchRunsAPreparedStatement(t *testing.T) {
	ctx := context.Background()
	primary := oneConnStore(t)
	repBase, err := url.Parse(contracttest.BackendAddr(t, contracttest.Replica))
	require.NoError(t, err)
	var schema string
	require.NoError(t, primary.db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema))
	u, err := url.Parse(contracttest.BackendAddr(t, contracttest.Postgres))
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	primaryURL := u.String()
	u.Host = repBase.Host
	s, err := Open(ctx, Config{URL: primaryURL, MaxOpenConns: 1, Replicas: Replicas{URLs: []string{u.String()}, Interval: 50 * time.Millisecond}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	x := s.TextIndex(TextOptions{})
	tn := domain.Tenant{OrgID: "o", UserID: "u"}
	want := domain.NewMemoryID(time.Now())
	require.NoError(t, x.Index(ctx, tn, []ports.TextDoc{{ID: want, AppID: "a", Text: "We adopted a beagle from the shelter", CreatedAt: time.Now()}}))
	require.Eventually(t, func() bool { st := s.Replicas()[0]; return st.Up && st.LagBytes == 0 }, 20*time.Second, 20*time.Millisecond)
	rep := s.replicas.reps[0].db
	prepared := func() int {
		var n int
		require.NoError(t, rep.QueryRowContext(ctx, `SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%WITH cand AS%'`).Scan(&n))
		return n
	}
	search := func(q string) {
		hits, err := x.Search(ctx, tn, q, 10, domain.SearchFilter{})
		require.NoError(t, err)
		require.NotEmpty(t, hits, q)
		require.Equal(t, want, hits[0].ID, q)
	}
	search("beagle shelter")
	require.Eventually(t, func() bool { return prepared() == 1 }, 10*time.Second, 20*time.Millisecond, "prepared on the replica's connection")
	for _, q := range []string{"when did we adopt the beagle?", "what did we adopt from the shelter last spring?"} {
		search(q)
		require.Equal(t, 1, prepared(), "one prepared search statement on the replica's connection, reused")
	}
}
