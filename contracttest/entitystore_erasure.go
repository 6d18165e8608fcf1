package contracttest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// EntityErasureBackend is a store holding memories, entities and the
// subject-erasure steps.
type EntityErasureBackend interface {
	ErasureBackend
	ports.EntityStore
}

// RunEntityErasure checks that a subject's erasure removes every entity
// row of the subject, and only of the subject: entities are derived from
// memory text, so they are personal data (docs/privacy.md).
func RunEntityErasure(t *testing.T, newStore func(t *testing.T) EntityErasureBackend) {
	t.Run("Subject/EraseUserRemovesEntities", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx, now := ctxFor(t), time.Now()
		org := domain.OrgID("org-" + randHex(t))
		alice, bob := domain.Tenant{OrgID: org, UserID: "alice"}, domain.Tenant{OrgID: org, UserID: "bob"}
		for _, tn := range []domain.Tenant{alice, bob} {
			ms := createTexts(t, s, tn, "app", "Met Anna in Lisbon", "Anna works at Farfetch")
			for i, m := range []domain.Mention{ment("Lisbon", domain.EntityPlace), ment("Farfetch", domain.EntityOrganisation)} {
				require.NoError(t, s.LinkMemory(ctx, tn, ms[i].ID, []domain.Mention{ment("Anna", domain.EntityPerson), m}, now))
			}
		}
		got := eraseAll(t, s, domain.Subject{OrgID: org, UserID: "alice"})
		require.Positive(t, got[domain.StoreEntities], "counts name the entity rows")
		page, err := s.ListEntities(ctx, alice, domain.EntityQuery{Limit: 10})
		require.NoError(t, err)
		require.Empty(t, page.Items)
		res, err := s.ResolveEntities(ctx, alice, []string{"anna", "lisbon", "farfetch"})
		require.NoError(t, err)
		require.Empty(t, res)
		page, err = s.ListEntities(ctx, bob, domain.EntityQuery{Limit: 10})
		require.NoError(t, err)
		require.Len(t, page.Items, 3, "another user's entities stay")
		require.Equal(t, 1.0, weight(t, s, bob, byName(t, s, bob, "Anna")[0].ID, byName(t, s, bob, "Lisbon")[0].ID))
	})
}
