package contracttest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// ArchiveStore is what the archive contract exercises: the two archive
// ports, and the memory port to write data the ordinary way.
type ArchiveStore interface {
	ports.MemoryStore
	ports.ArchiveSource
	ports.ArchiveSink
}

type archiveCase struct {
	name string
	run  func(t *testing.T, s ArchiveStore)
}

// RunArchiveStore runs the ArchiveSource and ArchiveSink contract
// (ports/archive.go) against isolated stores from newStore.
//
// Semantics the port's doc leaves open and this suite pins down:
//   - every table and every column kind survives Load then Scan unchanged,
//     Extra included, so that an archive re-exported from any store has the
//     same bytes;
//   - a row the store's constraints refuse fails its whole batch with
//     domain.ErrInvalid, and nothing of the batch is written.
func RunArchiveStore(t *testing.T, newStore func(t *testing.T) ArchiveStore) {
	cases := []archiveCase{
		{"Load/EveryTableRoundTrips", testArchiveRoundTrip},
		{"Load/SecondLoadSkipsEverything", testArchiveIdempotent},
		{"Load/DryRunWritesNothing", testArchiveDryRun},
		{"Load/OverwriteReplacesSameTenant", testArchiveOverwrite},
		{"Load/OverwriteNeverTouchesOtherTenant", testArchiveOverwriteOtherTenant},
		{"Load/RefusedRowFailsWholeBatch", testArchiveBadBatch},
		{"Load/HistoryNeedsItsMemory", testArchiveOrphanHistory},
		{"Load/BatchOfTwoOrgs", testArchiveTwoOrgBatch},
		{"Load/RepeatedRowsInOneBatch", testArchiveRepeatedRows},
		{"Load/RefusedRowIsNamed", testArchiveRefusedRowNamed},
		{"Load/OrgWithOnlyExperimentsIsScanned", testArchiveOrgOnlyExperiments},
		{"Load/ExpiryIsKeptAndEnforced", testArchiveExpiry},
		{"Load/MemoryTimesTravel", testArchiveTimes},
		{"Scan/WrittenMemoriesWithHistory", testArchiveScanWritten},
		{"Scan/UserScopeSeesOnlyThatUser", testArchiveUserScope},
		{"Scan/SinceKeepsNewerRows", testArchiveSince},
		{"Scan/SnapshotIgnoresLaterWrites", testArchiveSnapshot},
		{"Erase/ClearsUnknownFields", testArchiveEraseClearsExtra},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t))
		})
	}
}

// tableRows is one table's rows as the suite loads and expects them.
type tableRows struct {
	table ports.ArchiveTable
	rows  []ports.ArchiveRow
}

func archTable(t *testing.T, name string) ports.ArchiveTable {
	t.Helper()
	tb, ok := ports.ArchiveTableNamed(name)
	require.True(t, ok, name)
	return tb
}

func js(s string) json.RawMessage { return json.RawMessage(s) }

// archiveExpiry is the sample memory's expires_at: far ahead, so that the
// memory stays readable, at microsecond precision as archives keep times.
var archiveExpiry = time.Date(2099, 5, 6, 7, 8, 9, 123456000, time.UTC)

// archiveValidFrom and archiveValidTo are the sample memory's validity
// (issue 18); its observed_at is an hour before its creation.
var (
	archiveValidFrom = time.Date(2021, 1, 2, 3, 4, 5, 678901000, time.UTC)
	archiveValidTo   = time.Date(2023, 1, 2, 3, 4, 5, 678901000, time.UTC)
)

// sampleRows is a row of every table, every kind and nullability, for one
// tenant; base makes times distinct per call.
func sampleRows(t *testing.T, tn domain.Tenant, base time.Time) []tableRows {
	t.Helper()
	org, user := string(tn.OrgID), string(tn.UserID)
	ts := func(sec int) time.Time {
		return base.Add(time.Duration(sec)*time.Second + 123456*time.Microsecond).UTC()
	}
	mem := string(domain.NewMemoryID(base))
	mem2 := string(domain.NewMemoryID(base.Add(time.Millisecond)))
	exp, q, fb := string(domain.NewMemoryID(base.Add(2*time.Millisecond))), string(domain.NewMemoryID(base.Add(3*time.Millisecond))), string(domain.NewMemoryID(base.Add(4*time.Millisecond)))
	row := func(extra string, vals ...any) ports.ArchiveRow {
		r := ports.ArchiveRow{Values: vals}
		if extra != "" {
			r.Extra = js(extra)
		}
		return r
	}
	return []tableRows{
		{archTable(t, "memories"), []ports.ArchiveRow{
			row(`{"future":{"a":1}}`, mem, org, user, "app-a", "likes tea <&>", js(`{"k":"v","n":2}`), js(`["drinks","food"]`), "active", false, ts(0), ts(5), "planner", "run-1", archiveExpiry,
				ts(-3600), archiveValidFrom, archiveValidTo),
			row("", mem2, org, user, "app-a", "", js(`{}`), js(`[]`), "deleted", true, ts(1), ts(6), nil, nil, nil, nil, nil, nil),
		}},
		{archTable(t, "memory_history"), []ports.ArchiveRow{
			row("", mem, org, user, "add", nil, js(`{"categories":["drinks"],"metadata":{},"state":"active","text":"likes tea"}`), "app-a", ts(0)),
			row(`{"why":"x"}`, mem, org, user, "update", js(`{"categories":["drinks"],"metadata":{},"state":"active","text":"likes tea"}`),
				js(`{"categories":["drinks","food"],"metadata":{"k":"v","n":2},"state":"active","text":"likes tea <&>"}`), "app-a", ts(5)),
			row("", mem2, org, user, "erase", nil, nil, "app-a", ts(6)),
		}},
		{archTable(t, "apps"), []ports.ArchiveRow{row("", org, user, "app-a", "the app", true, ts(0), ts(2))}},
		{archTable(t, "memory_access"), []ports.ArchiveRow{row("", org, user, "app-a", mem, "search", ts(7))}},
		{archTable(t, "query_logs"), []ports.ArchiveRow{row("", q, org, user, "tea?", js(`{"limit":5}`), js(`["`+mem+`"]`), exp, "b", ts(8))}},
		{archTable(t, "feedback_events"), []ports.ArchiveRow{
			row("", fb, org, user, q, mem, "app-a", "accepted", int64(4), exp, "b", int64(12), ts(9)),
		}},
		{archTable(t, "experiments"), []ports.ArchiveRow{
			row("", exp, org, "fusion", "k test", "completed", js(`[{"name":"a","weight":50},{"name":"b","weight":50}]`), "admin", ts(0), ts(3), ts(1), ts(3)),
		}},
		{archTable(t, "experiment_history"), []ports.ArchiveRow{
			row("", exp, org, "", "draft", "admin", "", ts(0)),
			row("", exp, org, "draft", "running", "admin", "go", ts(1)),
		}},
		{archTable(t, "experiment_assignments"), []ports.ArchiveRow{row("", org, exp, user, "b", ts(2))}},
	}
}

// loadAll loads every sample table in order and returns the summed result.
func loadAll(t *testing.T, s ArchiveStore, data []tableRows, opts ports.LoadOptions) ports.LoadResult {
	t.Helper()
	var sum ports.LoadResult
	for _, d := range data {
		res, err := s.Load(ctxFor(t), d.table, d.rows, opts)
		require.NoError(t, err, d.table.Name)
		sum.Inserted += res.Inserted
		sum.Updated += res.Updated
		sum.Skipped += res.Skipped
	}
	return sum
}

// scanAll reads every table of scope from one snapshot.
func scanAll(t *testing.T, s ArchiveStore, scope ports.ArchiveScope) map[string][]ports.ArchiveRow {
	t.Helper()
	out := map[string][]ports.ArchiveRow{}
	err := s.ArchiveSnapshot(ctxFor(t), func(sn ports.ArchiveSnapshot) error {
		for _, tb := range ports.ArchiveTables {
			err := sn.Scan(ctxFor(t), tb, scope, func(r ports.ArchiveRow) error {
				out[tb.Name] = append(out[tb.Name], r)
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

func total(data []tableRows) int {
	n := 0
	for _, d := range data {
		n += len(d.rows)
	}
	return n
}
