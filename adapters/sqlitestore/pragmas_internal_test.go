package sqlitestore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestConnectionSettings checks the pragmas each pool runs with: they are
// per connection in SQLite, so a typo in the DSN would silently drop them.
func TestConnectionSettings(t *testing.T) {
	s, err := Open(context.Background(), Config{Path: filepath.Join(t.TempDir(), "engram.db")})
	require.NoError(t, err)
	defer s.Close()
	pragma := func(readPool bool, name string) string {
		db := s.w
		if readPool {
			db = s.r
		}
		var v string
		require.NoError(t, db.QueryRow("PRAGMA "+name).Scan(&v))
		return v
	}
	for _, readPool := range []bool{false, true} {
		require.Equal(t, "wal", pragma(readPool, "journal_mode"))
		require.Equal(t, "1", pragma(readPool, "foreign_keys"))
		require.Equal(t, "1", pragma(readPool, "synchronous"), "NORMAL")
		require.Equal(t, "5000", pragma(readPool, "busy_timeout"))
	}
	require.Equal(t, "1", pragma(false, "secure_delete"))
	require.Equal(t, fmt.Sprint(backstopCheckpointPages), pragma(false, "wal_autocheckpoint"))
	require.Equal(t, "1", pragma(true, "query_only"))
	require.Equal(t, 1, s.w.Stats().MaxOpenConnections, "SQLite has one writer")

	_, err = s.r.Exec(`DELETE FROM memories`)
	require.Error(t, err, "the read pool must refuse writes")
}
