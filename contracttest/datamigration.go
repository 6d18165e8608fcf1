package contracttest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// DataMigrationStore is a store with the migration mark, its copy
// positions, and the archive ports (to fill it and to see it empty; its
// snapshots must be ports.ArchiveSeeker).
type DataMigrationStore interface {
	ArchiveStore
	ports.DataMigration
	ports.MigrationCheckpoint
}

// RunDataMigration runs the DataMigration contract (ports/datamigration.go)
// against isolated stores from newStore.
func RunDataMigration(t *testing.T, newStore func(t *testing.T) DataMigrationStore) {
	cases := []struct {
		name string
		run  func(t *testing.T, s DataMigrationStore)
	}{
		{"Mark/RoundTrip", testMigrationMark},
		{"Rollback/WithoutMarkRefusesAndKeepsRows", testRollbackNeedsMark},
		{"Rollback/EmptiesEveryTableAndClearsTheMark", testRollbackEmpties},
		{"Checkpoint/LoadAtRecordsThePositionWithTheBatch", testLoadAtRecords},
		{"Checkpoint/ClearedWithTheMark", testPositionsCleared},
		{"Seek/ScanAfterIsTheRestOfTheScan", testScanAfter},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t))
		})
	}
}

func testMigrationMark(t *testing.T, s DataMigrationStore) {
	_, _, ok, err := s.MigrationInProgress(ctxFor(t))
	require.NoError(t, err)
	require.False(t, ok)
	at := time.Date(2026, 12, 4, 23, 0, 0, 0, time.UTC)
	require.NoError(t, s.BeginMigration(ctxFor(t), "sqlite:/var/lib/engram", at))
	require.NoError(t, s.BeginMigration(ctxFor(t), "sqlite:/var/lib/engram", at), "marking again replaces")
	src, since, ok, err := s.MigrationInProgress(ctxFor(t))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "sqlite:/var/lib/engram", src)
	require.True(t, since.Equal(at))
	require.NoError(t, s.EndMigration(ctxFor(t)))
	_, _, ok, err = s.MigrationInProgress(ctxFor(t))
	require.NoError(t, err)
	require.False(t, ok)
	require.NoError(t, s.EndMigration(ctxFor(t)), "ending twice is a no-op")
}

func testRollbackNeedsMark(t *testing.T, s DataMigrationStore) {
	tn := newTenant(t)
	loadAll(t, s, sampleRows(t, tn, archiveBase), ports.LoadOptions{})
	require.ErrorIs(t, s.RollbackMigration(ctxFor(t)), domain.ErrConflict)
	require.Len(t, scanAll(t, s, ports.ArchiveScope{})["memories"], 2)
}

func testRollbackEmpties(t *testing.T, s DataMigrationStore) {
	a, b := newTenant(t), newTenant(t)
	require.NoError(t, s.BeginMigration(ctxFor(t), "test", time.Now()))
	loadAll(t, s, sampleRows(t, a, archiveBase), ports.LoadOptions{})
	loadAll(t, s, sampleRows(t, b, archiveBase.Add(time.Hour)), ports.LoadOptions{})
	require.NoError(t, s.RollbackMigration(ctxFor(t)))
	for table, rows := range scanAll(t, s, ports.ArchiveScope{}) {
		require.Empty(t, rows, table)
	}
	_, _, ok, err := s.MigrationInProgress(ctxFor(t))
	require.NoError(t, err)
	require.False(t, ok)
	// The store takes the same rows again (no leftover index entry or key).
	loadAll(t, s, sampleRows(t, a, archiveBase), ports.LoadOptions{})
}
