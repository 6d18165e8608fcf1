package sqlitestore

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestScanActiveReadsARangeNotTheOrg checks the plan of a start's page
// query: without an index in (org_id, id) order for active memories, SQLite
// reads the org's whole active set and sorts it for every page, and a start
// at 1M memories took 1,067 s for its two passes (docs/benchmarks.md, "Time
// to ready").
func TestScanActiveReadsARangeNotTheOrg(t *testing.T) {
	s, err := Open(context.Background(), Config{Path: filepath.Join(t.TempDir(), "engram.db")})
	require.NoError(t, err)
	defer s.Close()
	rows, err := s.r.Query(`EXPLAIN QUERY PLAN `+scanActiveSQL, "org", "", nowNanos(), 256)
	require.NoError(t, err)
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &notused, &detail))
		plan = append(plan, detail)
	}
	require.NoError(t, rows.Err())
	joined := strings.Join(plan, "\n")
	require.Contains(t, joined, "memories_org_active_id", "the page is read through the (org_id, id) index")
	require.NotContains(t, joined, "TEMP B-TREE", "no sort of the org's active set per page")
}
