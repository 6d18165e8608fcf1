package contracttest

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var archiveBase = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func testArchiveRoundTrip(t *testing.T, s ArchiveStore) {
	tn := newTenant(t)
	data := sampleRows(t, tn, archiveBase)
	res := loadAll(t, s, data, ports.LoadOptions{})
	require.Equal(t, ports.LoadResult{Inserted: total(data)}, res)
	got := scanAll(t, s, ports.ArchiveScope{Org: tn.OrgID})
	for _, d := range data {
		require.Equal(t, d.rows, got[d.table.Name], d.table.Name)
	}
}

func testArchiveIdempotent(t *testing.T, s ArchiveStore) {
	tn := newTenant(t)
	data := sampleRows(t, tn, archiveBase)
	loadAll(t, s, data, ports.LoadOptions{})
	again := loadAll(t, s, data, ports.LoadOptions{})
	require.Equal(t, ports.LoadResult{Skipped: total(data)}, again)
	again = loadAll(t, s, data, ports.LoadOptions{Overwrite: true})
	require.Zero(t, again.Inserted, "overwrite inserts nothing twice")
	got := scanAll(t, s, ports.ArchiveScope{Org: tn.OrgID})
	for _, d := range data {
		require.Len(t, got[d.table.Name], len(d.rows), d.table.Name)
	}
}

func testArchiveDryRun(t *testing.T, s ArchiveStore) {
	tn := newTenant(t)
	data := sampleRows(t, tn, archiveBase)
	res, err := s.Load(ctxFor(t), data[0].table, data[0].rows, ports.LoadOptions{DryRun: true})
	require.NoError(t, err)
	require.Equal(t, len(data[0].rows), res.Inserted)
	require.Empty(t, scanAll(t, s, ports.ArchiveScope{Org: tn.OrgID})["memories"])
}

func testArchiveOverwrite(t *testing.T, s ArchiveStore) {
	tn := newTenant(t)
	data := sampleRows(t, tn, archiveBase)
	loadAll(t, s, data[:1], ports.LoadOptions{})
	changed := data[0].rows[0]
	changed.Values = append([]any(nil), changed.Values...)
	changed.Values[4] = "likes green tea"
	res, err := s.Load(ctxFor(t), data[0].table, []ports.ArchiveRow{changed}, ports.LoadOptions{})
	require.NoError(t, err)
	require.Equal(t, ports.LoadResult{Skipped: 1}, res, "skip mode keeps the stored row")
	res, err = s.Load(ctxFor(t), data[0].table, []ports.ArchiveRow{changed}, ports.LoadOptions{Overwrite: true})
	require.NoError(t, err)
	require.Equal(t, ports.LoadResult{Updated: 1}, res)
	m, err := s.Get(ctxFor(t), tn, domain.MemoryID(changed.Values[0].(string)))
	require.NoError(t, err)
	require.Equal(t, "likes green tea", m.Text)
	require.Equal(t, domain.ContentHash("likes green tea"), m.ContentHash)
}

func testArchiveOverwriteOtherTenant(t *testing.T, s ArchiveStore) {
	a, b := newTenant(t), newTenant(t)
	b.OrgID = a.OrgID // same org, other user: no row-level security to hide it
	data := sampleRows(t, a, archiveBase)
	loadAll(t, s, data[:1], ports.LoadOptions{})
	stolen := data[0].rows[0]
	stolen.Values = append([]any(nil), stolen.Values...)
	stolen.Values[2] = string(b.UserID)
	stolen.Values[4] = "overwritten by b"
	res, err := s.Load(ctxFor(t), data[0].table, []ports.ArchiveRow{stolen}, ports.LoadOptions{Overwrite: true})
	require.NoError(t, err)
	require.Equal(t, ports.LoadResult{Skipped: 1}, res)
	m, err := s.Get(ctxFor(t), a, domain.MemoryID(stolen.Values[0].(string)))
	require.NoError(t, err)
	require.Equal(t, "likes tea <&>", m.Text)
	_, err = s.Get(ctxFor(t), b, domain.MemoryID(stolen.Values[0].(string)))
	require.ErrorIs(t, err, domain.ErrNotFound)
}

func testArchiveBadBatch(t *testing.T, s ArchiveStore) {
	tn := newTenant(t)
	data := sampleRows(t, tn, archiveBase)
	bad := data[0].rows[1]
	bad.Values = append([]any(nil), bad.Values...)
	bad.Values[7] = "bogus" // not a state the store accepts
	_, err := s.Load(ctxFor(t), data[0].table, []ports.ArchiveRow{data[0].rows[0], bad}, ports.LoadOptions{})
	require.ErrorIs(t, err, domain.ErrInvalid)
	require.Empty(t, scanAll(t, s, ports.ArchiveScope{Org: tn.OrgID})["memories"], "nothing of the batch is written")
}

func testArchiveOrphanHistory(t *testing.T, s ArchiveStore) {
	tn := newTenant(t)
	data := sampleRows(t, tn, archiveBase)
	res, err := s.Load(ctxFor(t), data[1].table, data[1].rows, ports.LoadOptions{})
	require.NoError(t, err)
	require.Equal(t, ports.LoadResult{Skipped: len(data[1].rows)}, res)
}

func testArchiveScanWritten(t *testing.T, s ArchiveStore) {
	tn := newTenant(t)
	m, err := domain.NewMemory(tn, "app-a", "written the ordinary way", domain.Metadata{"x": 1}, []string{"Misc"}, time.Now())
	require.NoError(t, err)
	_, _, err = s.Create(ctxFor(t), tn, m)
	require.NoError(t, err)
	_, err = s.Update(ctxFor(t), tn, m.ID, "app-a", func(mm *domain.Memory) error { mm.Text = "rewritten"; return nil })
	require.NoError(t, err)
	got := scanAll(t, s, ports.ArchiveScope{Org: tn.OrgID})
	require.Len(t, got["memories"], 1)
	row := got["memories"][0].Values
	require.Equal(t, string(m.ID), row[0])
	require.Equal(t, "rewritten", row[4])
	require.JSONEq(t, `{"x":1}`, string(row[5].(json.RawMessage)))
	require.JSONEq(t, `["misc"]`, string(row[6].(json.RawMessage)))
	// Stores keep microseconds; PostgreSQL rounds where SQLite truncates.
	require.WithinDuration(t, m.CreatedAt, row[9].(time.Time), time.Microsecond)
	require.Len(t, got["memory_history"], 2)
	require.Equal(t, "add", got["memory_history"][0].Values[3])
	require.Equal(t, "update", got["memory_history"][1].Values[3])

	// Loaded into a second tenant's view of the same rows: equal scan.
	other := newTenant(t)
	for _, tb := range []string{"memories", "memory_history"} {
		rows := got[tb]
		for i := range rows {
			rows[i].Values[1], rows[i].Values[2] = string(other.OrgID), string(other.UserID)
			if tb == "memories" {
				rows[i].Values[0] = string(domain.NewMemoryID(time.Now()))
				id := rows[i].Values[0]
				for j := range got["memory_history"] {
					got["memory_history"][j].Values[0] = id
				}
			}
		}
		_, err := s.Load(ctxFor(t), archTable(t, tb), rows, ports.LoadOptions{})
		require.NoError(t, err)
	}
	again := scanAll(t, s, ports.ArchiveScope{Org: other.OrgID})
	require.Equal(t, got["memories"], again["memories"])
	require.Equal(t, got["memory_history"], again["memory_history"])
	mm, err := s.Get(ctxFor(t), other, domain.MemoryID(again["memories"][0].Values[0].(string)))
	require.NoError(t, err)
	require.Equal(t, "rewritten", mm.Text)
	h, err := s.History(ctxFor(t), other, mm.ID)
	require.NoError(t, err)
	require.Len(t, h, 2)
}

func testArchiveUserScope(t *testing.T, s ArchiveStore) {
	a := newTenant(t)
	b := domain.Tenant{OrgID: a.OrgID, UserID: domain.UserID("other-" + randHex(t))}
	loadAll(t, s, sampleRows(t, a, archiveBase), ports.LoadOptions{})
	loadAll(t, s, sampleRows(t, b, archiveBase.Add(time.Hour)), ports.LoadOptions{})
	got := scanAll(t, s, ports.ArchiveScope{Org: a.OrgID, User: b.UserID})
	require.Len(t, got["memories"], 2)
	for name, rows := range got {
		tb := archTable(t, name)
		require.True(t, tb.UserScoped, "%s is not a user's table", name)
		for _, r := range rows {
			require.Equal(t, string(b.UserID), r.Values[tb.Col("user_id")], name)
		}
	}
}

func testArchiveSince(t *testing.T, s ArchiveStore) {
	tn := newTenant(t)
	loadAll(t, s, sampleRows(t, tn, archiveBase), ports.LoadOptions{})
	got := scanAll(t, s, ports.ArchiveScope{Org: tn.OrgID, Since: archiveBase.Add(6 * time.Second)})
	require.Len(t, got["memories"], 1, "only the memory updated at +6s")
	require.Len(t, got["memory_history"], 1)
	require.Len(t, got["feedback_events"], 1)
	require.Empty(t, got["apps"])
}

func testArchiveSnapshot(t *testing.T, s ArchiveStore) {
	tn := newTenant(t)
	data := sampleRows(t, tn, archiveBase)
	loadAll(t, s, data[:1], ports.LoadOptions{})
	var seen int
	errStop := errors.New("stop")
	err := s.ArchiveSnapshot(ctxFor(t), func(sn ports.ArchiveSnapshot) error {
		m, err := domain.NewMemory(tn, "app-a", "written during the export", nil, nil, time.Now())
		require.NoError(t, err)
		_, _, err = s.Create(ctxFor(t), tn, m)
		require.NoError(t, err)
		err = sn.Scan(ctxFor(t), data[0].table, ports.ArchiveScope{Org: tn.OrgID}, func(ports.ArchiveRow) error { seen++; return nil })
		require.NoError(t, err)
		return errStop
	})
	require.ErrorIs(t, err, errStop)
	require.Equal(t, 2, seen, "the memory written after the snapshot began is not seen")
	require.Len(t, scanAll(t, s, ports.ArchiveScope{Org: tn.OrgID})["memories"], 3)
}

// An archive's unknown fields may hold personal data: erasure blanks them
// with the rest of the memory's content, on the row and its history.
func testArchiveEraseClearsExtra(t *testing.T, s ArchiveStore) {
	tn := newTenant(t)
	data := sampleRows(t, tn, archiveBase)
	loadAll(t, s, data[:2], ports.LoadOptions{})
	id := domain.MemoryID(data[0].rows[0].Values[0].(string))
	require.NoError(t, s.Erase(ctxFor(t), tn, id, "app-a"))
	got := scanAll(t, s, ports.ArchiveScope{Org: tn.OrgID})
	for _, tb := range []string{"memories", "memory_history"} {
		for _, r := range got[tb] {
			if r.Values[0] == string(id) {
				require.Nil(t, r.Extra, tb)
			}
		}
	}
	require.Equal(t, true, got["memories"][0].Values[8], "erased")
}

// expires_at travels with a memory (issue 16): a restored memory expires
// when the original would have. One that expired before the import is
// loaded as it was, so that a backup's trial restore and migrate-data
// reproduce the source's rows, but no read returns it: the sweeper erases
// it as it would have erased the original. Overwrite replaces the expiry,
// clearing it included.
func testArchiveExpiry(t *testing.T, s ArchiveStore) {
	tn := newTenant(t)
	data := sampleRows(t, tn, archiveBase)
	tb := data[0].table
	col := tb.Col("expires_at")
	require.Positive(t, col)
	live := data[0].rows[0]
	gone := data[0].rows[0]
	gone.Values = append([]any(nil), gone.Values...)
	gone.Values[0] = string(domain.NewMemoryID(archiveBase.Add(time.Hour)))
	gone.Values[4] = "expired before the import"    // another text: an equal active one would be a duplicate
	gone.Values[col] = archiveBase.Add(time.Minute) // long past
	res, err := s.Load(ctxFor(t), tb, []ports.ArchiveRow{live, gone}, ports.LoadOptions{})
	require.NoError(t, err)
	require.Equal(t, ports.LoadResult{Inserted: 2}, res)

	got := scanAll(t, s, ports.ArchiveScope{Org: tn.OrgID})["memories"]
	require.Len(t, got, 2)
	byID := map[string]ports.ArchiveRow{}
	for _, r := range got {
		byID[r.Values[0].(string)] = r
	}
	require.Equal(t, archiveExpiry, byID[live.Values[0].(string)].Values[col], "the expiry is exported as imported")
	require.Equal(t, gone.Values[col], byID[gone.Values[0].(string)].Values[col])

	m, err := s.Get(ctxFor(t), tn, domain.MemoryID(live.Values[0].(string)))
	require.NoError(t, err)
	require.True(t, archiveExpiry.Equal(m.ExpiresAt), "the restored memory expires: %v", m.ExpiresAt)
	_, err = s.Get(ctxFor(t), tn, domain.MemoryID(gone.Values[0].(string)))
	require.ErrorIs(t, err, domain.ErrNotFound, "an expired memory is never read back")

	later := live
	later.Values = append([]any(nil), live.Values...)
	later.Values[col] = archiveExpiry.Add(time.Hour)
	_, err = s.Load(ctxFor(t), tb, []ports.ArchiveRow{later}, ports.LoadOptions{Overwrite: true})
	require.NoError(t, err)
	m, err = s.Get(ctxFor(t), tn, m.ID)
	require.NoError(t, err)
	require.True(t, archiveExpiry.Add(time.Hour).Equal(m.ExpiresAt), "overwrite replaces the expiry: %v", m.ExpiresAt)
	later.Values[col] = nil
	_, err = s.Load(ctxFor(t), tb, []ports.ArchiveRow{later}, ports.LoadOptions{Overwrite: true})
	require.NoError(t, err)
	m, err = s.Get(ctxFor(t), tn, m.ID)
	require.NoError(t, err)
	require.True(t, m.ExpiresAt.IsZero(), "overwrite with no expiry clears it: %v", m.ExpiresAt)
}

// A memory's times travel (issue 18): observed_at, valid_from and valid_to
// are exported as imported; observed_at equal to created_at is left out
// (nil) on export, and a row without it (an older archive, mem0 or
// OpenMemory) imports with observed_at = created_at.
func testArchiveTimes(t *testing.T, s ArchiveStore) {
	tn := newTenant(t)
	data := sampleRows(t, tn, archiveBase)
	tb := data[0].table
	obs, from, to := tb.Col("observed_at"), tb.Col("valid_from"), tb.Col("valid_to")
	require.Positive(t, obs)
	timed := data[0].rows[0]
	plain := data[0].rows[0]
	plain.Values = append([]any(nil), plain.Values...)
	plain.Values[0] = string(domain.NewMemoryID(archiveBase.Add(time.Hour)))
	plain.Values[4] = "an older archive's memory"
	plain.Values[obs], plain.Values[from], plain.Values[to] = nil, nil, nil
	_, err := s.Load(ctxFor(t), tb, []ports.ArchiveRow{timed, plain}, ports.LoadOptions{})
	require.NoError(t, err)

	m, err := s.Get(ctxFor(t), tn, domain.MemoryID(timed.Values[0].(string)))
	require.NoError(t, err)
	requireSameTime(t, timed.Values[obs].(time.Time), m.ObservedAt, "ObservedAt")
	requireSameTime(t, archiveValidFrom, m.ValidFrom, "ValidFrom")
	requireSameTime(t, archiveValidTo, m.ValidTo, "ValidTo")
	p, err := s.Get(ctxFor(t), tn, domain.MemoryID(plain.Values[0].(string)))
	require.NoError(t, err)
	requireSameTime(t, p.CreatedAt, p.ObservedAt, "observed_at defaults to created_at")
	require.True(t, p.ValidFrom.IsZero() && p.ValidTo.IsZero())

	got := scanAll(t, s, ports.ArchiveScope{Org: tn.OrgID})["memories"]
	require.Len(t, got, 2)
	for _, r := range got {
		if r.Values[0] == plain.Values[0] {
			require.Nil(t, r.Values[obs], "observed_at = created_at is left out")
			require.Nil(t, r.Values[from])
			require.Nil(t, r.Values[to])
			continue
		}
		require.Equal(t, timed.Values[obs], r.Values[obs])
		require.Equal(t, archiveValidFrom, r.Values[from])
		require.Equal(t, archiveValidTo, r.Values[to])
	}
}
