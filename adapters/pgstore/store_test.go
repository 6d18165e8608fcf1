package pgstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/domain"
)

// TestPooledConnectionForgetsOrg uses a one-connection pool, so the raw
// query below runs on the very connection the store just used.
func TestPooledConnectionForgetsOrg(t *testing.T) {
	t.Parallel()
	_, appURL := testSchema(t)
	ctx := context.Background()
	s, err := pgstore.Open(ctx, pgstore.Config{URL: appURL, MaxOpenConns: 1})
	require.NoError(t, err)
	defer s.Close()
	var baseline string
	require.NoError(t, s.DB().QueryRowContext(ctx, `SHOW statement_timeout`).Scan(&baseline))
	ten := domain.Tenant{OrgID: "org-a", UserID: "u1"}
	m, err := domain.NewMemory(ten, "app", "pooled", nil, nil, time.Now())
	require.NoError(t, err)
	_, _, err = s.Create(ctx, ten, m)
	require.NoError(t, err)
	_, err = s.Get(ctx, ten, m.ID)
	require.NoError(t, err)

	var org, role, timeout string
	var n int
	require.NoError(t, s.DB().QueryRowContext(ctx,
		`SELECT current_setting('engram.org_id', true), current_user, current_setting('statement_timeout'), (SELECT count(*) FROM memories)`).
		Scan(&org, &role, &timeout, &n))
	require.Empty(t, org, "engram.org_id leaked out of the transaction")
	require.Equal(t, "engram_test_login", role, "SET LOCAL ROLE leaked out of the transaction")
	require.Equal(t, baseline, timeout, "SET LOCAL statement_timeout leaked")
	require.Zero(t, n)
}

// TestStatementTimeoutIsUnavailable blocks an update behind a row lock held
// by another session; the store's statement timeout must end the wait.
func TestStatementTimeoutIsUnavailable(t *testing.T) {
	t.Parallel()
	ownerURL, appURL := testSchema(t)
	ctx := context.Background()
	// Only the blocked call uses the short timeout: on a busy machine any
	// other statement might exceed 100ms on its own.
	s, err := pgstore.Open(ctx, pgstore.Config{URL: appURL})
	require.NoError(t, err)
	defer s.Close()
	impatient, err := pgstore.Open(ctx, pgstore.Config{URL: appURL, Options: pgstore.Options{StatementTimeout: 100 * time.Millisecond}})
	require.NoError(t, err)
	defer impatient.Close()
	ten := domain.Tenant{OrgID: "org-a", UserID: "u1"}
	m, err := domain.NewMemory(ten, "app", "locked", nil, nil, time.Now())
	require.NoError(t, err)
	_, _, err = s.Create(ctx, ten, m)
	require.NoError(t, err)

	owner, err := sqlx.Open("postgres", ownerURL)
	require.NoError(t, err)
	defer owner.Close()
	lock, err := owner.BeginTxx(ctx, nil)
	require.NoError(t, err)
	defer lock.Rollback()
	_, err = lock.ExecContext(ctx, `SELECT 1 FROM memories WHERE id = $1 FOR UPDATE`, m.ID)
	require.NoError(t, err)

	start := time.Now()
	_, err = impatient.Update(ctx, ten, m.ID, "app", func(x *domain.Memory) error { x.Text = "changed"; return nil })
	require.ErrorIs(t, err, domain.ErrUnavailable)
	require.Less(t, time.Since(start), 4*time.Second, "the 5s default would have waited longer")
	require.NoError(t, lock.Rollback())

	got, err := s.Get(ctx, ten, m.ID)
	require.NoError(t, err)
	require.Equal(t, "locked", got.Text)
}

func TestCanceledAndClosedAreUnavailable(t *testing.T) {
	t.Parallel()
	s := newStore(t, pgstore.Options{})
	ten := domain.Tenant{OrgID: "org-a", UserID: "u1"}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Get(ctx, ten, domain.NewMemoryID(time.Now()))
	require.ErrorIs(t, err, domain.ErrUnavailable)
	require.ErrorIs(t, err, context.Canceled)

	require.NoError(t, s.Close())
	_, err = s.ListApps(context.Background(), ten)
	require.ErrorIs(t, err, domain.ErrUnavailable)
}

// TestBigBatchAuto crosses the COPY threshold with duplicates inside the
// batch and against stored rows.
func TestBigBatchAuto(t *testing.T) {
	t.Parallel()
	s := newStore(t, pgstore.Options{})
	ctx := context.Background()
	ten := domain.Tenant{OrgID: "org-a", UserID: "u1"}
	existing, err := domain.NewMemory(ten, "app", "memory 7", nil, nil, time.Now())
	require.NoError(t, err)
	_, _, err = s.Create(ctx, ten, existing)
	require.NoError(t, err)

	var ms []domain.Memory
	for i := range 1200 {
		m, err := domain.NewMemory(ten, "app", fmt.Sprintf("memory %d", i%1000), domain.Metadata{"i": i}, []string{"bulk"}, time.Now())
		require.NoError(t, err)
		ms = append(ms, m)
	}
	n, err := s.CreateBatch(ctx, ten, ms)
	require.NoError(t, err)
	require.Equal(t, 999, n, "1000 distinct texts, one already stored")
	st, err := s.Stats(ctx, ten)
	require.NoError(t, err)
	require.Equal(t, 1000, st.Total)
	// The first of two equal texts in a batch wins.
	page, err := s.List(ctx, ten, domain.ListQuery{Metadata: domain.Metadata{"i": 1001}, Limit: 5})
	require.NoError(t, err)
	require.Empty(t, page.Items)
	page, err = s.List(ctx, ten, domain.ListQuery{Metadata: domain.Metadata{"i": 1}, Limit: 5})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	h, err := s.History(ctx, ten, page.Items[0].ID)
	require.NoError(t, err)
	require.Len(t, h, 1)
	require.Equal(t, "memory 1", h[0].New.Text)
}

// TestConcurrentDuplicateCreates races identical creates: exactly one row.
func TestConcurrentDuplicateCreates(t *testing.T) {
	t.Parallel()
	s := newStore(t, pgstore.Options{})
	ctx := context.Background()
	ten := domain.Tenant{OrgID: "org-a", UserID: "u1"}
	const n = 16
	var wg sync.WaitGroup
	ids := make([]domain.MemoryID, n)
	created := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := domain.NewMemory(ten, "app", "same words", nil, nil, time.Now())
			if err == nil {
				var got domain.Memory
				got, created[i], err = s.Create(ctx, ten, m)
				ids[i] = got.ID
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	wins := 0
	for i := range n {
		require.NoError(t, errs[i])
		require.Equal(t, ids[0], ids[i])
		if created[i] {
			wins++
		}
	}
	require.Equal(t, 1, wins)
}
