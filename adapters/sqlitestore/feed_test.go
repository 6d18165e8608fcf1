package sqlitestore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/domain"
)

// TestFeedListsEveryWriterInCommitOrder: the feed of one store sees its own
// writes and another store's on the same file, in seq order, paged; an idle
// poll answers nothing until someone commits again.
func TestFeedListsEveryWriterInCommitOrder(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "engram.db")
	a, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: path})
	require.NoError(t, err)
	defer a.Close()
	b, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: path})
	require.NoError(t, err)
	defer b.Close()
	feed, err := a.Feed(ctx)
	require.NoError(t, err)
	defer feed.Close()

	head, err := feed.Head(ctx)
	require.NoError(t, err)
	require.Zero(t, head)
	tn := domain.Tenant{OrgID: "org", UserID: "u"}
	other := domain.Tenant{OrgID: "org-2", UserID: "v"}
	var want []domain.MemoryID
	for i, st := range []*sqlitestore.Store{a, b, a} {
		ten := []domain.Tenant{tn, other, tn}[i]
		m, err := domain.NewMemory(ten, "app", "memory "+string(rune('a'+i)), nil, nil, time.Now())
		require.NoError(t, err)
		_, _, err = st.Create(ctx, ten, m)
		require.NoError(t, err)
		want = append(want, m.ID)
	}
	page, err := feed.Changes(ctx, 0, 2)
	require.NoError(t, err)
	require.Len(t, page, 2)
	require.Equal(t, want[:2], []domain.MemoryID{page[0].ID, page[1].ID})
	require.Equal(t, other, page[1].Tenant)
	require.Less(t, page[0].Seq, page[1].Seq)
	rest, err := feed.Changes(ctx, page[1].Seq, 10)
	require.NoError(t, err)
	require.Len(t, rest, 1)
	require.Equal(t, want[2], rest[0].ID)
	head, err = feed.Head(ctx)
	require.NoError(t, err)
	require.Equal(t, rest[0].Seq, head)

	idle, err := feed.Changes(ctx, head, 10)
	require.NoError(t, err)
	require.Empty(t, idle)
	idle, err = feed.Changes(ctx, head, 10)
	require.NoError(t, err)
	require.Empty(t, idle, "nothing committed: the data_version shortcut answers")
	require.NoError(t, b.Delete(ctx, other, []domain.MemoryID{want[1]}, "app"))
	after, err := feed.Changes(ctx, head, 10)
	require.NoError(t, err)
	require.Len(t, after, 1, "another connection's commit is seen after an idle answer")
	require.Equal(t, want[1], after[0].ID)
}
