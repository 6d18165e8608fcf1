package contracttest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// AccessLogStore is what the access log suite needs: the log itself plus the
// memory and app stores that make its entries meaningful.
type AccessLogStore interface {
	ports.AccessLog
	ports.MemoryStore
	ports.AppStore
}

// RunAccessLog runs the AccessLog contract (ports/appstore.go), and the parts
// of MemoryStore.Stats that need apps, against stores made by newStore, one
// isolated store per parallel subtest. A cursor ListAccess did not issue
// wraps domain.ErrInvalid.
func RunAccessLog(t *testing.T, newStore func(t *testing.T) AccessLogStore) {
	cases := []struct {
		name string
		run  func(t *testing.T, s AccessLogStore)
	}{
		{"ListAccess/LatestPerMemoryFirst", testAccessLatestFirst},
		{"RecordAccess/SkipsUnknownAndForeign", testAccessSkipsForeign},
		{"ListAccess/PaginatesExactlyOnce", testAccessPagination},
		{"ListAccess/LeavesOutErased", testAccessErased},
		{"ListAccess/BadCursorIsInvalid", func(t *testing.T, s AccessLogStore) {
			_, _, err := s.ListAccess(ctxFor(t), newTenant(t), "cursor", 10, "not a cursor")
			requireKind(t, err, domain.ErrInvalid)
		}},
		{"Stats/CountsApps", testStatsCountsApps},
		{"Stats/FollowWrites", testStatsFollowWrites},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t))
		})
	}
}

func access(m domain.Memory, app domain.AppID, kind domain.AccessKind, at time.Time) domain.Access {
	return domain.Access{MemoryID: m.ID, AppID: app, Kind: kind, AccessedAt: at}
}

func listAccessAll(t *testing.T, s AccessLogStore, tn domain.Tenant, app domain.AppID, limit int) []domain.Access {
	t.Helper()
	var out []domain.Access
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 1000, "ListAccess never returned an empty cursor")
		got, next, err := s.ListAccess(ctxFor(t), tn, app, limit, cursor)
		require.NoError(t, err)
		require.LessOrEqual(t, len(got), limit)
		out = append(out, got...)
		if next == "" {
			return out
		}
		cursor = next
	}
}

func testAccessLatestFirst(t *testing.T, s AccessLogStore) {
	tn := newTenant(t)
	ms := createTexts(t, s, tn, "writer", "m0", "m1", "m2")
	base := time.Now().UTC().Add(-time.Hour)
	at := func(min int) time.Time { return base.Add(time.Duration(min) * time.Minute) }
	require.NoError(t, s.RecordAccess(ctxFor(t), tn, []domain.Access{
		access(ms[0], "reader", domain.AccessGet, at(1)),
		access(ms[1], "reader", domain.AccessList, at(2)),
		access(ms[2], "other-app", domain.AccessGet, at(3)),
	}))
	require.NoError(t, s.RecordAccess(ctxFor(t), tn, []domain.Access{
		access(ms[0], "reader", domain.AccessSearch, at(4)),
		access(ms[1], "reader", domain.AccessGet, at(0)), // older than the latest
	}))
	got := listAccessAll(t, s, tn, "reader", 10)
	require.Len(t, got, 2)
	require.Equal(t, ms[0].ID, got[0].MemoryID)
	require.Equal(t, domain.AccessSearch, got[0].Kind)
	require.Equal(t, domain.AppID("reader"), got[0].AppID)
	requireSameTime(t, at(4), got[0].AccessedAt, "latest access")
	require.Equal(t, ms[1].ID, got[1].MemoryID)
	require.Equal(t, domain.AccessList, got[1].Kind)
	requireSameTime(t, at(2), got[1].AccessedAt, "latest access")

	other := listAccessAll(t, s, tn, "other-app", 10)
	require.Len(t, other, 1)
	require.Equal(t, ms[2].ID, other[0].MemoryID)
	require.Empty(t, listAccessAll(t, s, tn, "silent", 10))
	require.NoError(t, s.RecordAccess(ctxFor(t), tn, nil))
}

func testAccessSkipsForeign(t *testing.T, s AccessLogStore) {
	victim, attacker := newTenant(t), newTenant(t)
	vm := mustCreate(t, s, memOf(t, victim, "app", "victim's"))
	am := mustCreate(t, s, memOf(t, attacker, "app", "attacker's"))
	now := time.Now().UTC()
	ghost := domain.Memory{ID: domain.NewMemoryID(now)}
	// Foreign and unknown ids are skipped without failing the whole call.
	require.NoError(t, s.RecordAccess(ctxFor(t), attacker, []domain.Access{
		access(vm, "app", domain.AccessGet, now),
		access(ghost, "app", domain.AccessGet, now),
		access(am, "app", domain.AccessGet, now),
	}))
	got := listAccessAll(t, s, attacker, "app", 10)
	require.Len(t, got, 1)
	require.Equal(t, am.ID, got[0].MemoryID)
	require.Empty(t, listAccessAll(t, s, victim, "app", 10))

	require.NoError(t, s.RecordAccess(ctxFor(t), victim, []domain.Access{access(vm, "app", domain.AccessGet, now)}))
	got = listAccessAll(t, s, attacker, "app", 10)
	require.Len(t, got, 1, "another tenant's entries must never show")
	require.Len(t, listAccessAll(t, s, victim, "app", 10), 1)
}

func testAccessPagination(t *testing.T, s AccessLogStore) {
	tn := newTenant(t)
	texts := make([]string, 11)
	for i := range texts {
		texts[i] = fmt.Sprintf("read %d", i)
	}
	ms := createTexts(t, s, tn, "app", texts...)
	base := time.Now().UTC().Add(-time.Hour)
	var entries []domain.Access
	// Read in an order unrelated to creation, two entries sharing one instant.
	for i, j := range []int{3, 7, 0, 10, 5, 1, 9, 2, 8, 4, 6} {
		sec := i
		if i == 6 {
			sec = 5
		}
		entries = append(entries, access(ms[j], "reader", domain.AccessGet, base.Add(time.Duration(sec)*time.Second)))
	}
	require.NoError(t, s.RecordAccess(ctxFor(t), tn, entries))
	for _, limit := range []int{1, 3, 11, 50} {
		got := listAccessAll(t, s, tn, "reader", limit)
		require.Len(t, got, len(ms), "limit %d", limit)
		seen := map[domain.MemoryID]bool{}
		for i, a := range got {
			require.False(t, seen[a.MemoryID], "limit %d: %s twice", limit, a.MemoryID)
			seen[a.MemoryID] = true
			if i > 0 {
				require.False(t, a.AccessedAt.After(got[i-1].AccessedAt), "limit %d: not most recent first", limit)
			}
		}
		require.Equal(t, ms[6].ID, got[0].MemoryID)
		require.Equal(t, ms[3].ID, got[len(got)-1].MemoryID)
	}
}

func testAccessErased(t *testing.T, s AccessLogStore) {
	tn := newTenant(t)
	ms := createTexts(t, s, tn, "app", "kept", "deleted", "erased")
	now := time.Now().UTC()
	var entries []domain.Access
	for i, m := range ms {
		entries = append(entries, access(m, "reader", domain.AccessGet, now.Add(time.Duration(i)*time.Second)))
	}
	require.NoError(t, s.RecordAccess(ctxFor(t), tn, entries))
	require.NoError(t, s.Delete(ctxFor(t), tn, []domain.MemoryID{ms[1].ID}, "app"))
	require.NoError(t, s.Erase(ctxFor(t), tn, ms[2].ID, "app"))
	got := listAccessAll(t, s, tn, "reader", 10)
	var ids []domain.MemoryID
	for _, a := range got {
		ids = append(ids, a.MemoryID)
	}
	require.Equal(t, []domain.MemoryID{ms[1].ID, ms[0].ID}, ids)
	// Recording an access to an erased memory is skipped, not an error.
	require.NoError(t, s.RecordAccess(ctxFor(t), tn, []domain.Access{access(ms[2], "reader", domain.AccessGet, now.Add(time.Minute))}))
	require.Len(t, listAccessAll(t, s, tn, "reader", 10), 2)
}

func testStatsCountsApps(t *testing.T, s AccessLogStore) {
	tn := newTenant(t)
	for _, id := range []domain.AppID{"alpha", "beta", "unused"} {
		_, err := s.EnsureApp(ctxFor(t), tn, id)
		require.NoError(t, err)
	}
	_, err := s.EnsureApp(ctxFor(t), newTenant(t), "elsewhere")
	require.NoError(t, err)
	createTexts(t, s, tn, "alpha", "a1", "a2")
	createTexts(t, s, tn, "beta", "b1")
	st, err := s.Stats(ctxFor(t), tn)
	require.NoError(t, err)
	require.Equal(t, 3, st.Apps)
	require.Equal(t, 3, st.Total)
	require.Equal(t, map[domain.AppID]int{"alpha": 2, "beta": 1}, st.ByApp)
}
