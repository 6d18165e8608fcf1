package sqlitestore_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/domain"
)

// TestEraseLeavesNoTraceInTheFile goes below the port: after Erase and Close
// the secret must not be in any column, history row, access row, or anywhere
// in the bytes of the database file.
func TestEraseLeavesNoTraceInTheFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "engram.db")
	s, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: path})
	require.NoError(t, err)

	const secret = "my-unforgettable-secret-QX7Z9K2"
	tn := domain.Tenant{OrgID: "org", UserID: "user"}
	m, err := domain.NewMemory(tn, "app", "the code is "+secret, domain.Metadata{"hint": secret}, []string{secret}, time.Now())
	require.NoError(t, err)
	_, _, err = s.Create(ctx, tn, m)
	require.NoError(t, err)
	_, err = s.Update(ctx, tn, m.ID, "app", func(x *domain.Memory) error { x.Text = "updated: " + secret; return nil })
	require.NoError(t, err)
	require.NoError(t, s.RecordAccess(ctx, tn, []domain.Access{{MemoryID: m.ID, AppID: "app", Kind: domain.AccessGet, AccessedAt: time.Now()}}))
	keep, err := domain.NewMemory(tn, "app", "an innocent memory", nil, nil, time.Now())
	require.NoError(t, err)
	_, _, err = s.Create(ctx, tn, keep)
	require.NoError(t, err)

	require.NoError(t, s.Erase(ctx, tn, m.ID, "app"))

	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	var text, md, cats, hash string
	var erased int
	require.NoError(t, raw.QueryRow(`SELECT text, metadata, categories, content_hash, erased FROM memories WHERE id = ?`, string(m.ID)).
		Scan(&text, &md, &cats, &hash, &erased))
	require.Equal(t, []string{"", "{}", "[]", ""}, []string{text, md, cats, hash})
	require.Equal(t, 1, erased)
	var withContent, accessRows int
	require.NoError(t, raw.QueryRow(`SELECT count(*) FROM memory_changes WHERE memory_id = ? AND (old_values IS NOT NULL OR new_values IS NOT NULL)`, string(m.ID)).Scan(&withContent))
	require.Zero(t, withContent)
	require.NoError(t, raw.QueryRow(`SELECT count(*) FROM memory_access WHERE memory_id = ?`, string(m.ID)).Scan(&accessRows))
	require.Zero(t, accessRows)
	require.NoError(t, raw.Close())

	// Closing the last connection checkpoints the WAL into the file and
	// removes it; secure_delete zeroed the freed cells.
	require.NoError(t, s.Close())
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(path + suffix)
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		require.False(t, bytes.Contains(b, []byte(secret)), "%s still contains the erased text", filepath.Base(path+suffix))
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, bytes.Contains(b, []byte("an innocent memory")), "the check must be able to find text that was not erased")
}
