package pgstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// TestImportAnalysesWhatItWrote imports a mem0 export of 12,000 memories
// (memories, their history and, through Changed as engramd indexes them,
// memory_search) into a store whose autovacuum is off, as CI's PostgreSQL
// runs and as a bulk load outruns autovacuum's minute. During the load the
// store analyses memories and memory_changes as they double (last at 8,000
// rows) and memory_search never: a dashboard page loading search hits
// planned on those statistics scanned all 100,000 memories of a 100k
// import (106 ms against 6 ms analysed). Once the import ends, every table
// it wrote a tenth or more of must hold statistics of all its rows.
func TestImportAnalysesWhatItWrote(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: imports 12,000 memories")
	}
	ownerURL, appURL := testSchema(t)
	tables := []string{"memories", "memory_changes", "memory_search"}
	owner := withoutAutovacuum(t, ownerURL, tables...)
	ctx := context.Background()
	s, err := pgstore.Open(ctx, pgstore.Config{URL: appURL, MaxOpenConns: 4})
	require.NoError(t, err)
	text := s.TextIndex(pgstore.TextOptions{})

	const n = 12_000
	type mem0 struct {
		ID        string `json:"id"`
		Memory    string `json:"memory"`
		UserID    string `json:"user_id"`
		CreatedAt string `json:"created_at"`
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var doc struct {
		Results []mem0 `json:"results"`
	}
	for i := range n {
		doc.Results = append(doc.Results, mem0{ID: domain.NewID(at.Add(time.Duration(i) * time.Millisecond)),
			Memory: fmt.Sprintf("imported memory %d", i), UserID: "alex", CreatedAt: at.Format(time.RFC3339)})
	}
	raw, err := json.Marshal(doc)
	require.NoError(t, err)
	tn := domain.Tenant{OrgID: "big", UserID: "u"}
	rep, err := archive.Import(ctx, s, bytes.NewReader(raw), int64(len(raw)), archive.ImportOptions{Tenant: &tn,
		Changed: func(ctx context.Context, tn domain.Tenant, ids []domain.MemoryID) error {
			docs := make([]ports.TextDoc, len(ids))
			for i, id := range ids {
				docs[i] = ports.TextDoc{ID: id, Text: "imported memory", CreatedAt: at}
			}
			return text.Index(ctx, tn, docs)
		}})
	require.NoError(t, err)
	require.Equal(t, n, rep.Tables[0].Inserted)
	// The statistics may be taken in the background; Close waits for them.
	require.NoError(t, s.Close())

	for _, table := range tables {
		var tuples float64
		require.NoError(t, owner.QueryRow(`SELECT reltuples FROM pg_class
			WHERE relname = $1 AND relnamespace = current_schema()::regnamespace`, table).Scan(&tuples))
		require.GreaterOrEqual(t, tuples, float64(n)*0.95, "%s: rows as last analysed", table)
	}
}
