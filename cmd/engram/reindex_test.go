package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// TestReindexCommandRebuildsTheTextIndex writes memories through the store
// alone (no index), runs `engram reindex`, and finds them by text.
func TestReindexCommandRebuildsTheTextIndex(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: wiring.SQLitePath(dir)})
	require.NoError(t, err)
	tn := domain.Tenant{OrgID: "o", UserID: "u"}
	var ids []domain.MemoryID
	for _, text := range []string{"bought a sourdough starter", "the sourdough needs feeding daily", "plays the banjo"} {
		m, err := domain.NewMemory(tn, "app", text, nil, nil, time.Now())
		require.NoError(t, err)
		_, _, err = st.Create(ctx, tn, m)
		require.NoError(t, err)
		ids = append(ids, m.ID)
	}
	hits, err := st.TextIndex().Search(ctx, tn, "sourdough", 10, domain.SearchFilter{})
	require.NoError(t, err)
	require.Empty(t, hits, "nothing indexed yet")
	require.NoError(t, st.Close())

	var out, errOut bytes.Buffer
	require.NoError(t, run(ctx, []string{"reindex", "--data-dir", dir}, &out, &errOut), errOut.String())
	require.Contains(t, out.String(), "reindexed 3 memories")

	st, err = sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(dir, "engram.db")})
	require.NoError(t, err)
	defer st.Close()
	hits, err = st.TextIndex().Search(ctx, tn, "sourdough", 10, domain.SearchFilter{})
	require.NoError(t, err)
	require.ElementsMatch(t, ids[:2], hitsIDs(hits))
	require.Error(t, run(ctx, []string{"reindex", "extra"}, &out, &errOut))
}

func hitsIDs(hs []ports.Hit) []domain.MemoryID {
	out := make([]domain.MemoryID, len(hs))
	for i, h := range hs {
		out[i] = h.ID
	}
	return out
}
