package contracttest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func runSessionList(t *testing.T, newStore func(t *testing.T, s SessionSetup) ports.SessionStore) {
	t.Run("List/NewestWriteFirstAndBounded", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, SessionSetup{})
		ctx := context.Background()
		got, err := s.List(ctx, tenantA, 10)
		require.NoError(t, err)
		require.Empty(t, got)
		appendN(t, s, tenantA, "chat-1", 3)
		time.Sleep(5 * time.Millisecond) // the stores order by the time of the last write
		appendN(t, s, tenantA, "chat-2", 1)
		time.Sleep(5 * time.Millisecond)
		appendN(t, s, tenantA, "chat-3", 2)
		got, err = s.List(ctx, tenantA, 10)
		require.NoError(t, err)
		require.Len(t, got, 3)
		require.Equal(t, []domain.SessionID{"chat-3", "chat-2", "chat-1"}, []domain.SessionID{got[0].ID, got[1].ID, got[2].ID})
		require.Equal(t, []int{2, 1, 3}, []int{got[0].Events, got[1].Events, got[2].Events})
		require.True(t, got[0].ExpiresAt.After(time.Now()))
		got, err = s.List(ctx, tenantA, 2)
		require.NoError(t, err)
		require.Len(t, got, 2, "limit bounds the list")

		require.NoError(t, s.End(ctx, tenantA, "chat-2"))
		got, err = s.List(ctx, tenantA, 10)
		require.NoError(t, err)
		require.Len(t, got, 2, "an ended session is not listed")

		_, err = s.List(ctx, tenantA, 0)
		require.ErrorIs(t, err, domain.ErrInvalid)
		_, err = s.List(ctx, tenantA, domain.MaxSessionList+1)
		require.ErrorIs(t, err, domain.ErrInvalid)
	})

	t.Run("List/OtherTenantsSessionsNeverAppear", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, SessionSetup{})
		ctx := context.Background()
		appendN(t, s, tenantA, "chat-a", 2)
		appendN(t, s, tenantColon1, "chat-c", 1)
		for _, other := range []domain.Tenant{tenantA2, tenantB, tenantColon2} {
			got, err := s.List(ctx, other, 10)
			require.NoError(t, err)
			require.Empty(t, got, "%v sees another tenant's sessions", other)
		}
		got, err := s.List(ctx, tenantA, 10)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, domain.SessionID("chat-a"), got[0].ID)
	})
}
