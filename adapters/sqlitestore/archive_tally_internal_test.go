package sqlitestore

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// recountTallies is memory_tallies recomputed from memories and
// memory_access: migration 0301's backfill.
const recountTallies = `SELECT org_id, user_id, dim, label, state, count(*) FROM (
    SELECT org_id, user_id, 'app' AS dim, app_id AS label, state FROM memories WHERE erased = 0
    UNION ALL SELECT org_id, user_id, 'day', strftime('%Y-%m-%d', created_at / 1000000000, 'unixepoch'), state FROM memories WHERE erased = 0
    UNION ALL SELECT m.org_id, m.user_id, 'category', c.value, m.state FROM memories m, json_each(m.categories) c WHERE m.erased = 0
    UNION ALL SELECT org_id, user_id, 'accessed', app_id, '' FROM memory_access
) GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`

func tallyRows(t *testing.T, s *Store, q string) []string {
	t.Helper()
	rows, err := s.w.Query(q)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var org, user, dim, label, state string
		var n int64
		require.NoError(t, rows.Scan(&org, &user, &dim, &label, &state, &n))
		out = append(out, fmt.Sprintf("%s/%s %s %s %s = %d", org, user, dim, label, state, n))
	}
	require.NoError(t, rows.Err())
	return out
}

// A bulk load counts memory_tallies itself (the per-row trigger is off for
// its statements): the counts equal a recount whatever the batch holds
// (erased and deleted memories, two rows with one id, rows already
// stored, several categories, several tenants, a creation before 1970),
// the switch is off again after the load, and ordinary writes go on
// counting through the trigger.
func TestBulkLoadKeepsTalliesExact(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "engram.db")})
	require.NoError(t, err)
	defer s.Close()
	tb, _ := ports.ArchiveTableNamed("memories")
	base := time.Date(2026, 3, 1, 23, 59, 59, 999999000, time.UTC)
	row := func(i int, org, user, app, state string, erased bool, cats string, created time.Time) ports.ArchiveRow {
		id := domain.NewID(base.Add(time.Duration(i) * time.Millisecond))
		return ports.ArchiveRow{Values: []any{id, org, user, app, fmt.Sprintf("memory %d", i), json.RawMessage(`{}`),
			json.RawMessage(cats), state, erased, created, created, nil, nil, nil, nil, nil, nil}}
	}
	var rows []ports.ArchiveRow
	for i := range 600 {
		org, user := "acme", fmt.Sprintf("u%d", i%3)
		if i%7 == 0 {
			org = "globex"
		}
		state := []string{"active", "paused", "archived", "deleted"}[i%4]
		cats := []string{`[]`, `["work"]`, `["work","home"]`}[i%3]
		created := base.Add(time.Duration(i%5) * 12 * time.Hour)
		if i == 5 {
			created = time.Date(1969, 12, 31, 23, 59, 59, 500000000, time.UTC)
		}
		rows = append(rows, row(i, org, user, fmt.Sprintf("app-%d", i%2), state, i%11 == 0, cats, created))
	}
	// Rows of the batch stored beforehand, the ordinary way (trigger on).
	_, err = s.Load(ctx, tb, rows[100:110], ports.LoadOptions{Overwrite: true})
	require.NoError(t, err)
	twin := rows[20]
	twin.Values = append([]any(nil), twin.Values...)
	twin.Values[3] = "app-other" // same id: skipped, not counted
	rows = append(rows[:21], append([]ports.ArchiveRow{twin}, rows[21:]...)...)
	res, err := s.Load(ctx, tb, rows, ports.LoadOptions{})
	require.NoError(t, err)
	require.Equal(t, 590, res.Inserted)
	require.Equal(t, 11, res.Skipped)

	require.Equal(t, tallyRows(t, s, recountTallies), tallyRows(t, s,
		`SELECT org_id, user_id, dim, label, state, n FROM memory_tallies ORDER BY 1, 2, 3, 4, 5`))
	var on int
	require.NoError(t, s.w.QueryRow(`SELECT count(*) FROM memory_tallies_deferred`).Scan(&on))
	require.Zero(t, on, "the switch is off after the load")

	tn := domain.Tenant{OrgID: "acme", UserID: "u0"}
	m, err := domain.NewMemory(tn, "app-0", "written the ordinary way", nil, []string{"late"}, time.Now())
	require.NoError(t, err)
	_, _, err = s.Create(ctx, tn, m)
	require.NoError(t, err)
	require.Equal(t, tallyRows(t, s, recountTallies), tallyRows(t, s,
		`SELECT org_id, user_id, dim, label, state, n FROM memory_tallies ORDER BY 1, 2, 3, 4, 5`))
}
