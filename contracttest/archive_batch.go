package contracttest

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// A batch may hold rows of several orgs (an instance archive is ordered by
// org, so a batch straddles the boundary): each lands in its own org.
func testArchiveTwoOrgBatch(t *testing.T, s ArchiveStore) {
	a, b := newTenant(t), newTenant(t)
	da, db := sampleRows(t, a, archiveBase), sampleRows(t, b, archiveBase.Add(time.Hour))
	for i := range da {
		rows := append(append([]ports.ArchiveRow(nil), da[i].rows...), db[i].rows...)
		res, err := s.Load(ctxFor(t), da[i].table, rows, ports.LoadOptions{})
		require.NoError(t, err, da[i].table.Name)
		require.Equal(t, ports.LoadResult{Inserted: len(rows)}, res, da[i].table.Name)
	}
	for _, c := range []struct {
		tn   domain.Tenant
		data []tableRows
	}{{a, da}, {b, db}} {
		got := scanAll(t, s, ports.ArchiveScope{Org: c.tn.OrgID})
		for _, d := range c.data {
			require.Equal(t, d.rows, got[d.table.Name], d.table.Name)
		}
	}
}

// A row repeated in one batch is written once: for append-only tables the
// second copy equals the first and is skipped; in overwrite mode the later
// of two rows with one key wins, as if loaded one after the other.
func testArchiveRepeatedRows(t *testing.T, s ArchiveStore) {
	tn := newTenant(t)
	data := sampleRows(t, tn, archiveBase)
	for _, d := range data {
		rows := append(append([]ports.ArchiveRow(nil), d.rows...), d.rows...)
		res, err := s.Load(ctxFor(t), d.table, rows, ports.LoadOptions{})
		require.NoError(t, err, d.table.Name)
		require.Equal(t, ports.LoadResult{Inserted: len(d.rows), Skipped: len(d.rows)}, res, d.table.Name)
	}
	got := scanAll(t, s, ports.ArchiveScope{Org: tn.OrgID})
	for _, d := range data {
		require.Equal(t, d.rows, got[d.table.Name], d.table.Name)
	}
	first, second := data[0].rows[0], data[0].rows[0]
	first.Values = append([]any(nil), first.Values...)
	second.Values = append([]any(nil), second.Values...)
	first.Values[4], second.Values[4] = "first rewrite", "second rewrite"
	_, err := s.Load(ctxFor(t), data[0].table, []ports.ArchiveRow{first, second}, ports.LoadOptions{Overwrite: true})
	require.NoError(t, err)
	m, err := s.Get(ctxFor(t), tn, domain.MemoryID(first.Values[0].(string)))
	require.NoError(t, err)
	require.Equal(t, "second rewrite", m.Text)
}

// A refused row in a large batch is named by its index.
func testArchiveRefusedRowNamed(t *testing.T, s ArchiveStore) {
	tn := newTenant(t)
	tb := archTable(t, "memories")
	var rows []ports.ArchiveRow
	for i := range 300 {
		at := archiveBase.Add(time.Duration(i) * time.Millisecond)
		rows = append(rows, ports.ArchiveRow{Values: []any{string(domain.NewMemoryID(at)), string(tn.OrgID), string(tn.UserID), "app-a",
			"memory " + time.Duration(i).String(), js(`{}`), js(`[]`), "active", false, at, at, nil, nil, nil, nil, nil, nil}})
	}
	rows[217].Values[7] = "bogus"
	_, err := s.Load(ctxFor(t), tb, rows, ports.LoadOptions{})
	require.ErrorIs(t, err, domain.ErrInvalid)
	var re *ports.RowError
	require.True(t, errors.As(err, &re), "%v", err)
	require.Equal(t, 217, re.Index)
	require.Empty(t, scanAll(t, s, ports.ArchiveScope{Org: tn.OrgID})["memories"], "nothing of the batch is written")
}

// An org that only ever created an experiment is part of an instance
// export all the same.
func testArchiveOrgOnlyExperiments(t *testing.T, s ArchiveStore) {
	tn := newTenant(t)
	data := sampleRows(t, tn, archiveBase)
	var exp []tableRows
	for _, d := range data {
		if !d.table.UserScoped {
			exp = append(exp, d)
		}
	}
	loadAll(t, s, exp, ports.LoadOptions{})
	got := map[string]int{}
	err := s.ArchiveSnapshot(ctxFor(t), func(sn ports.ArchiveSnapshot) error {
		for _, d := range exp {
			err := sn.Scan(ctxFor(t), d.table, ports.ArchiveScope{}, func(r ports.ArchiveRow) error {
				if r.Values[d.table.Col("org_id")] == string(tn.OrgID) {
					got[d.table.Name]++
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
	for _, d := range exp {
		require.Equal(t, len(d.rows), got[d.table.Name], d.table.Name)
	}
}
