package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// waitChanges polls the feed until want ids arrived or the bound passed.
func waitChanges(t *testing.T, f *pgstore.Feed, want ...domain.MemoryID) []ports.ChangeRef {
	t.Helper()
	var got []ports.ChangeRef
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		refs, err := f.Changes(context.Background(), 0, 100)
		require.NoError(t, err)
		got = append(got, refs...)
		seen := map[domain.MemoryID]bool{}
		for _, r := range got {
			seen[r.ID] = true
		}
		all := true
		for _, id := range want {
			all = all && seen[id]
		}
		if all {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("feed did not deliver %v; got %v", want, got)
	return nil
}

// TestFeedDeliversOtherProcessesChangesAndCatchesUpAfterALostConnection:
// two stores with their own origins stand for two processes on one schema.
// A's feed hears B's writes (by NOTIFY), not its own; when its listening
// connection is killed, the writes in between are read back from the table.
func TestFeedDeliversOtherProcessesChangesAndCatchesUpAfterALostConnection(t *testing.T) {
	t.Parallel()
	_, appURL := testSchema(t)
	ctx := context.Background()
	a, err := pgstore.Open(ctx, pgstore.Config{URL: appURL, Options: pgstore.Options{Origin: "proc-a"}})
	require.NoError(t, err)
	defer a.Close()
	b, err := pgstore.Open(ctx, pgstore.Config{URL: appURL, Options: pgstore.Options{Origin: "proc-b"}})
	require.NoError(t, err)
	defer b.Close()
	feed, err := a.Feed(ctx, appURL)
	require.NoError(t, err)
	defer feed.Close()
	head, err := feed.Head(ctx)
	require.NoError(t, err)

	create := func(st *pgstore.Store, ten domain.Tenant, text string) domain.MemoryID {
		m, err := domain.NewMemory(ten, "app", text, nil, nil, time.Now())
		require.NoError(t, err)
		_, _, err = st.Create(ctx, ten, m)
		require.NoError(t, err)
		return m.ID
	}
	t1, t2 := domain.Tenant{OrgID: "org-1", UserID: "u"}, domain.Tenant{OrgID: "org-2", UserID: "v"}
	own := create(a, t1, "written by A")
	theirs := create(b, t2, "written by B")
	got := waitChanges(t, feed, theirs)
	for _, r := range got {
		require.NotEqual(t, own, r.ID, "A's own change is left out")
		if r.ID == theirs {
			require.Equal(t, t2, r.Tenant)
			require.Greater(t, r.Seq, head)
		}
	}
	h, err := feed.Head(ctx)
	require.NoError(t, err)
	require.GreaterOrEqual(t, h, got[len(got)-1].Seq)

	// Kill the listening connection, write, and the feed still delivers.
	var channel string
	require.NoError(t, a.DB().QueryRowContext(ctx, `SELECT 'engram_changes_' || left(md5(current_schema()), 16)`).Scan(&channel))
	db, _ := adminDB(t)
	var killed int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE query LIKE 'LISTEN %' || $1 || '%' AND pid <> pg_backend_pid()`, channel).Scan(&killed))
	require.Equal(t, 1, killed, "this feed's listener, and no other test's")
	lost := create(b, t1, "written while A was not listening")
	waitChanges(t, feed, lost)
}
