package contracttest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// SessionEraserStore is a session store that erasure can empty per subject.
type SessionEraserStore interface {
	ports.SessionStore
	ports.SessionEraser
	ports.SessionLister
}

// RunSessionEraser checks ports.SessionEraser: a user's sessions go, every
// other user's and org's stay (including the ids crafted to collide in a
// naive key scheme), a second erasure counts zero, and an org-wide erasure
// takes every user of that org only.
func RunSessionEraser(t *testing.T, newStore func(t *testing.T) SessionEraserStore) {
	ctx := context.Background()
	all := []domain.Tenant{tenantA, tenantA2, tenantB, tenantColon1, tenantColon2}
	fill := func(t *testing.T, s SessionEraserStore) {
		for _, tn := range all {
			appendN(t, s, tn, "s1", 2)
			appendN(t, s, tn, "s2", 1)
		}
	}
	left := func(t *testing.T, s SessionEraserStore, tn domain.Tenant) int {
		n := 0
		for _, sid := range []domain.SessionID{"s1", "s2"} {
			evs, err := s.Recent(ctx, tn, sid, 10)
			require.NoError(t, err)
			n += len(evs)
		}
		return n
	}
	t.Run("EraseSessions/OneUserOnly", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		fill(t, s)
		n, err := s.EraseSessions(ctx, domain.Subject(tenantA))
		require.NoError(t, err)
		require.EqualValues(t, 2, n)
		require.Zero(t, left(t, s, tenantA))
		for _, tn := range all[1:] {
			require.Equal(t, 3, left(t, s, tn), "%v keeps its sessions", tn)
		}
		n, err = s.EraseSessions(ctx, domain.Subject(tenantA))
		require.NoError(t, err)
		require.Zero(t, n, "erasing twice finds nothing")
	})
	t.Run("SubjectSessions/OneTenantOnly", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		fill(t, s)
		for _, tn := range all {
			ids, err := s.SubjectSessions(ctx, tn)
			require.NoError(t, err)
			require.ElementsMatch(t, []domain.SessionID{"s1", "s2"}, ids, "%v", tn)
		}
		ids, err := s.SubjectSessions(ctx, domain.Tenant{OrgID: "org-a", UserID: "nobody"})
		require.NoError(t, err)
		require.Empty(t, ids)
	})
	t.Run("EraseSessions/WholeOrg", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		fill(t, s)
		n, err := s.EraseSessions(ctx, domain.Subject{OrgID: "org-a"})
		require.NoError(t, err)
		require.EqualValues(t, 6, n, "alice, bob and alice:x of org-a")
		for _, tn := range []domain.Tenant{tenantA, tenantA2, tenantColon2} {
			require.Zero(t, left(t, s, tn))
		}
		for _, tn := range []domain.Tenant{tenantB, tenantColon1} {
			require.Equal(t, 3, left(t, s, tn), "%v is another org", tn)
		}
	})
}

// IdempotencyEraserStore is an idempotency store that erasure can empty
// per subject.
type IdempotencyEraserStore interface {
	ports.IdempotencyStore
	ports.IdempotencyEraser
}

// RunIdempotencyEraser checks ports.IdempotencyEraser over scopes built by
// ports.IdempotencyScope, as the HTTP edge builds them.
func RunIdempotencyEraser(t *testing.T, newStore func(t *testing.T) IdempotencyEraserStore) {
	ctx := context.Background()
	all := []domain.Tenant{tenantA, tenantA2, tenantB, tenantColon1, tenantColon2}
	fill := func(t *testing.T, s IdempotencyEraserStore) {
		for _, tn := range all {
			for _, k := range []string{"k1", "k2"} {
				rec, claimed, err := s.Begin(ctx, ports.IdempotencyScope(tn), k, "fp", time.Minute)
				require.NoError(t, err)
				require.True(t, claimed)
				rec.Response = ports.IdempotentResponse{Status: 201, Body: []byte("secret words")}
				require.NoError(t, s.Finish(ctx, ports.IdempotencyScope(tn), k, rec, time.Hour))
			}
		}
	}
	held := func(t *testing.T, s IdempotencyEraserStore, tn domain.Tenant) int {
		n := 0
		for _, k := range []string{"k1", "k2"} {
			rec, claimed, err := s.Begin(ctx, ports.IdempotencyScope(tn), k, "fp", time.Minute)
			require.NoError(t, err)
			if !claimed && rec.Done {
				n++
			}
		}
		return n
	}
	t.Run("EraseIdempotency/OneUserOnly", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		fill(t, s)
		n, err := s.EraseIdempotency(ctx, domain.Subject(tenantA))
		require.NoError(t, err)
		require.EqualValues(t, 2, n)
		require.Zero(t, held(t, s, tenantA))
		for _, tn := range all[1:] {
			require.Equal(t, 2, held(t, s, tn), "%v keeps its records", tn)
		}
	})
	t.Run("EraseIdempotency/WholeOrg", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		fill(t, s)
		n, err := s.EraseIdempotency(ctx, domain.Subject{OrgID: "org-a"})
		require.NoError(t, err)
		require.EqualValues(t, 6, n)
		for _, tn := range []domain.Tenant{tenantB, tenantColon1} {
			require.Equal(t, 2, held(t, s, tn), "%v is another org", tn)
		}
		for _, tn := range []domain.Tenant{tenantA, tenantA2, tenantColon2} {
			require.Zero(t, held(t, s, tn))
		}
	})
}
