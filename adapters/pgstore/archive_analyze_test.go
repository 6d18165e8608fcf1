package pgstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// TestRestoreAnalysesTablesAsTheyFill restores memories and then their
// history, in 1,000-row batches as `engram restore` does, into a store whose
// autovacuum is off (it wakes once a minute: a restore outruns it), through
// the login role, which does not own the tables. With statistics taken when
// the tables were empty the planner met each history row's NOT EXISTS guard
// with the org's whole index (row-level security's org_id predicate ANDed
// with the key's), so each batch read the whole org once per row: a 100k
// restore hit the 5 s timeout at its 41,000th history row
// (BenchmarkArchive/postgres, docs/benchmarks.md, reproduces that; this test
// is too small to). The store now analyses a table as it fills, through
// engram_analyze (migration 0291): this checks the statistics are there.
func TestRestoreAnalysesTablesAsTheyFill(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: restores 18,000 rows")
	}
	ownerURL, appURL := testSchema(t)
	tables := []string{"memories", "memory_changes"}
	owner := withoutAutovacuum(t, ownerURL, tables...)
	for _, table := range tables {
		_, err := owner.Exec(`ANALYZE ` + table)
		require.NoError(t, err)
	}
	ctx := context.Background()
	s, err := pgstore.Open(ctx, pgstore.Config{URL: appURL, MaxOpenConns: 4,
		Options: pgstore.Options{StatementTimeout: 5 * time.Second}})
	require.NoError(t, err)
	defer s.Close()

	const n, batch = 6_000, 1000
	mt, _ := ports.ArchiveTableNamed("memories")
	ht, _ := ports.ArchiveTableNamed("memory_history")
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ids := make([]string, n)
	var mem, hist []ports.ArchiveRow
	for i := range ids {
		ids[i] = domain.NewID(at.Add(time.Duration(i) * time.Millisecond))
		text := fmt.Sprintf("restored memory %d", i)
		mem = append(mem, ports.ArchiveRow{Values: []any{ids[i], "big", "u", "app", text,
			json.RawMessage(`{}`), json.RawMessage(`[]`), "active", false, at, at, nil, nil, nil, nil, nil, nil}})
		v, _ := json.Marshal(map[string]any{"text": text, "metadata": map[string]any{}, "categories": []string{}, "state": "active"})
		for k, kind := range []string{"add", "update"} {
			hist = append(hist, ports.ArchiveRow{Values: []any{ids[i], "big", "u", kind, nil, json.RawMessage(v),
				"app", at.Add(time.Duration(k) * time.Second)}})
		}
	}
	load := func(tab ports.ArchiveTable, rows []ports.ArchiveRow) int {
		got := 0
		for lo := 0; lo < len(rows); lo += batch {
			res, err := s.Load(ctx, tab, rows[lo:min(lo+batch, len(rows))], ports.LoadOptions{})
			require.NoError(t, err, "%s rows %d-%d", tab.Name, lo+1, lo+batch)
			got += res.Inserted
		}
		return got
	}
	require.Equal(t, n, load(mt, mem))
	require.Equal(t, 2*n, load(ht, hist))
	// What steers the guards: statistics of both tables, taken by the
	// store while they filled (autovacuum is off), as the runtime role.
	for table, rows := range map[string]int{"memories": n, "memory_changes": 2 * n} {
		var tuples float64
		var keyStats int
		require.NoError(t, owner.QueryRow(`SELECT c.reltuples, (SELECT count(*) FROM pg_stats s
			WHERE s.schemaname = current_schema() AND s.tablename = $1 AND s.attname IN ('id', 'memory_id'))
			FROM pg_class c WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace`, table).Scan(&tuples, &keyStats))
		require.Equal(t, 1, keyStats, "%s: statistics of its key", table)
		require.GreaterOrEqual(t, tuples, float64(rows)/4, "%s: rows as last analysed", table)
	}
}

// TestRestoreAnalysesCoarselyThenFully restores 4,000 memories, so that the
// last ANALYZE taken while the table filled falls on the last batch. Those
// growth ANALYZEs sample with a statistics target of 10 (3,000 rows, not
// 30,000: a tenth of the cost, and all a guard's probe needs is to know
// that a key is nearly unique); a full ANALYZE of a 64,000-row memories
// table took 0.3-0.55 s, a coarse one 20-30 ms. SettleLoad then analyses
// each coarsely analysed table at the full target, however few rows came
// after: coarse statistics (ten histogram buckets, ten common values) must
// not outlive the load.
func TestRestoreAnalysesCoarselyThenFully(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: restores 4,000 rows")
	}
	ownerURL, appURL := testSchema(t)
	owner := withoutAutovacuum(t, ownerURL, "memories")
	ctx := context.Background()
	s, err := pgstore.Open(ctx, pgstore.Config{URL: appURL, MaxOpenConns: 4,
		Options: pgstore.Options{StatementTimeout: 5 * time.Second}})
	require.NoError(t, err)
	closed := false
	defer func() {
		if !closed {
			_ = s.Close()
		}
	}()

	const n, batch = 4000, 1000
	mt, _ := ports.ArchiveTableNamed("memories")
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for lo := 0; lo < n; lo += batch {
		var rows []ports.ArchiveRow
		for i := lo; i < lo+batch; i++ {
			id := domain.NewID(at.Add(time.Duration(i) * time.Millisecond))
			rows = append(rows, ports.ArchiveRow{Values: []any{id, "big", "u", "app", fmt.Sprintf("restored memory %d", i),
				json.RawMessage(`{}`), json.RawMessage(`[]`), "active", false, at, at, nil, nil, nil, nil, nil, nil}})
		}
		res, err := s.Load(ctx, mt, rows, ports.LoadOptions{})
		require.NoError(t, err)
		require.Equal(t, batch, res.Inserted)
	}
	// The number of histogram bounds of the unique id column is the
	// target the table was last analysed with, plus one.
	bounds := func() int {
		var b int
		require.NoError(t, owner.QueryRow(`SELECT coalesce(array_length(histogram_bounds::text::text[], 1), 0) FROM pg_stats
			WHERE schemaname = current_schema() AND tablename = 'memories' AND attname = 'id'`).Scan(&b))
		return b
	}
	require.Equal(t, 11, bounds(), "analysed at a statistics target of 10 while it filled")
	s.SettleLoad(ctx)
	closed = true
	require.NoError(t, s.Close()) // waits for SettleLoad's ANALYZEs
	require.Equal(t, 101, bounds(), "analysed at the full target once the load settled")
}
