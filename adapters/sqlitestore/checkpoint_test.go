package sqlitestore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/domain"
)

// TestCheckpointsRunOffTheWritePath: a commit leaves its pages in the WAL
// (the writer does not checkpoint), and the background checkpointer copies
// them into the database file shortly after.
func TestCheckpointsRunOffTheWritePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "engram.db")
	s, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: path, CheckpointInterval: 2 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	size := func() int64 {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		return fi.Size()
	}
	tn := domain.Tenant{OrgID: "org", UserID: "user"}
	ms := make([]domain.Memory, 12_000) // ~1,800 WAL pages: past SQLite's default threshold of 1,000
	for i := range ms {
		m, err := domain.NewMemory(tn, "app", fmt.Sprintf("memory %d with enough text to fill some pages of the log", i), nil, nil, time.Now())
		require.NoError(t, err)
		ms[i] = m
	}
	before := size()
	_, err = s.CreateBatch(context.Background(), tn, ms)
	require.NoError(t, err)
	require.Equal(t, before, size(), "the commit itself must not have checkpointed")
	require.Eventually(t, func() bool { return size() > before+1<<20 }, 30*time.Second, 50*time.Millisecond,
		"the checkpointer never copied the WAL into the file")
}
