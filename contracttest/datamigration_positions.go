package contracttest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/ports"
)

func testLoadAtRecords(t *testing.T, s DataMigrationStore) {
	tn := newTenant(t)
	require.NoError(t, s.BeginMigration(ctxFor(t), "test", time.Now()))
	data := sampleRows(t, tn, archiveBase)
	mem := data[0]
	pos := ports.CopyPosition{Org: string(tn.OrgID), Key: []string{"m-key"}, Dup: 1, Copied: 2}
	_, err := s.LoadAt(ctxFor(t), mem.table, mem.rows, ports.LoadOptions{DryRun: true}, pos)
	require.NoError(t, err)
	got, err := s.CopyPositions(ctxFor(t))
	require.NoError(t, err)
	require.Empty(t, got, "a dry run records nothing")

	res, err := s.LoadAt(ctxFor(t), mem.table, mem.rows, ports.LoadOptions{}, pos)
	require.NoError(t, err)
	require.Equal(t, 2, res.Inserted)
	hist := data[1]
	hpos := ports.CopyPosition{Org: string(tn.OrgID), Key: []string{"h-key"}, Dup: 2, Copied: 3}
	_, err = s.LoadAt(ctxFor(t), hist.table, hist.rows, ports.LoadOptions{}, hpos)
	require.NoError(t, err)
	pos.Key[0] = "m-key-2"
	pos.Copied = 4
	_, err = s.LoadAt(ctxFor(t), mem.table, mem.rows[:1], ports.LoadOptions{}, pos)
	require.NoError(t, err)
	got, err = s.CopyPositions(ctxFor(t))
	require.NoError(t, err)
	pos.Table, hpos.Table = "memories", "memory_history"
	require.Equal(t, map[string]ports.CopyPosition{"memories": pos, "memory_history": hpos}, got, "one position per table, the last")
	require.Len(t, scanAll(t, s, ports.ArchiveScope{Org: tn.OrgID})["memory_history"], 3)
}

func testPositionsCleared(t *testing.T, s DataMigrationStore) {
	tn := newTenant(t)
	mem := sampleRows(t, tn, archiveBase)[0]
	record := func() {
		require.NoError(t, s.BeginMigration(ctxFor(t), "test", time.Now()))
		_, err := s.LoadAt(ctxFor(t), mem.table, mem.rows, ports.LoadOptions{}, ports.CopyPosition{Org: "o", Key: []string{"k"}, Dup: 1, Copied: 1})
		require.NoError(t, err)
	}
	none := func(why string) {
		got, err := s.CopyPositions(ctxFor(t))
		require.NoError(t, err)
		require.Empty(t, got, why)
	}
	record()
	require.NoError(t, s.BeginMigration(ctxFor(t), "test", time.Now()))
	none("a new migration starts from the first row")
	record()
	require.NoError(t, s.EndMigration(ctxFor(t)))
	none("a finished migration keeps no position")
	record()
	require.NoError(t, s.RollbackMigration(ctxFor(t)))
	none("a rolled back migration keeps no position")
}

// testScanAfter checks ScanAfter from the position after every row of
// every table (two orgs; history keys repeat) against the whole scan.
func testScanAfter(t *testing.T, s DataMigrationStore) {
	a, b := newTenant(t), newTenant(t)
	loadAll(t, s, sampleRows(t, a, archiveBase), ports.LoadOptions{})
	loadAll(t, s, sampleRows(t, b, archiveBase.Add(time.Hour)), ports.LoadOptions{})
	whole := scanAll(t, s, ports.ArchiveScope{})
	err := s.ArchiveSnapshot(ctxFor(t), func(sn ports.ArchiveSnapshot) error {
		sk, ok := sn.(ports.ArchiveSeeker)
		require.True(t, ok, "the snapshot is an ArchiveSeeker")
		for _, tb := range ports.ArchiveTables {
			rows := whole[tb.Name]
			require.NotEmpty(t, rows, tb.Name)
			var pos ports.CopyPosition
			for i, r := range rows {
				org, key := ports.RowKey(tb, r)
				if ports.ComparePosition(org, key, pos) == 0 {
					pos.Dup++
				} else {
					pos = ports.CopyPosition{Org: org, Key: key, Dup: 1}
				}
				var got []ports.ArchiveRow
				require.NoError(t, sk.ScanAfter(ctxFor(t), tb, pos, func(r ports.ArchiveRow) error {
					got = append(got, r)
					return nil
				}))
				require.Equal(t, len(rows[i+1:]), len(got), "%s after row %d", tb.Name, i)
				if len(got) > 0 {
					require.Equal(t, rows[i+1:], got, "%s after row %d", tb.Name, i)
				}
			}
		}
		return nil
	})
	require.NoError(t, err)
}
