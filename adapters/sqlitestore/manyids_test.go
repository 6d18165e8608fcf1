package sqlitestore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

// TestIDListsBeyondSQLiteVariableLimit passes more ids than SQLite allows
// bound variables (32766): the store must not turn a long list into a
// backend failure.
func TestIDListsBeyondSQLiteVariableLimit(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	tn := domain.Tenant{OrgID: "org", UserID: "user"}
	var real []domain.MemoryID
	for _, text := range []string{"one", "two", "three"} {
		m, err := domain.NewMemory(tn, "app", text, nil, nil, time.Now())
		require.NoError(t, err)
		_, _, err = s.Create(ctx, tn, m)
		require.NoError(t, err)
		real = append(real, m.ID)
	}
	ids := append([]domain.MemoryID{}, real...)
	for range 40_000 {
		ids = append(ids, domain.NewMemoryID(time.Now()))
	}

	page, err := s.List(ctx, tn, domain.ListQuery{IDs: ids, Limit: domain.MaxListLimit})
	require.NoError(t, err)
	require.Len(t, page.Items, len(real))

	err = s.Delete(ctx, tn, ids, "app")
	require.ErrorIs(t, err, domain.ErrNotFound)
	_, err = s.SetState(ctx, tn, ids, domain.StatePaused, "app")
	require.ErrorIs(t, err, domain.ErrNotFound)

	// The same long list without unknown ids works, duplicates included.
	got, err := s.SetState(ctx, tn, append(append([]domain.MemoryID{}, real...), real...), domain.StatePaused, "app")
	require.NoError(t, err)
	require.Len(t, got, len(real))
}
