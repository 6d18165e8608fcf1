package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/domain"
)

func TestSmoke(t *testing.T) {
	start := time.Now()
	s := newStore(t, pgstore.Options{})
	t.Logf("setup %v", time.Since(start))
	ctx := context.Background()
	ten := domain.Tenant{OrgID: "org-a", UserID: "u1"}
	m, err := domain.NewMemory(ten, "cursor", "hello world", domain.Metadata{"k": 1}, []string{"x"}, time.Now())
	require.NoError(t, err)
	got, created, err := s.Create(ctx, ten, m)
	require.NoError(t, err)
	require.True(t, created)
	t.Logf("%+v", got)
	g, err := s.Get(ctx, ten, m.ID)
	require.NoError(t, err)
	require.Equal(t, got, g)
}
