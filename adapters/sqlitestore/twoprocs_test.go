package sqlitestore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/domain"
)

// TestTwoStoresShareOneFile stands in for engramd and an engram CLI command
// opening the same data file: their writers contend for SQLite's one write
// lock, which busy_timeout and BEGIN IMMEDIATE must turn into waiting, not
// SQLITE_BUSY errors; and each sees the other's commits.
func TestTwoStoresShareOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "engram.db")
	ctx := context.Background()
	var stores []*sqlitestore.Store
	for range 2 {
		s, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: path})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		stores = append(stores, s)
	}
	tn := domain.Tenant{OrgID: "org", UserID: "user"}
	const perStore = 100
	var wg sync.WaitGroup
	errs := make(chan error, 2*perStore)
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range perStore {
				m, err := domain.NewMemory(tn, "app", fmt.Sprintf("store %d memory %d", i, k), nil, nil, time.Now())
				if err == nil {
					_, _, err = s.Create(ctx, tn, m)
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for _, s := range stores {
		st, err := s.Stats(ctx, tn)
		require.NoError(t, err)
		require.Equal(t, 2*perStore, st.Total)
	}
}
