package contracttest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// OwnersStore is a memory store that can also say whose memory an id is.
type OwnersStore interface {
	ports.MemoryStore
	ports.MemoryOwners
}

// RunMemoryOwners runs the MemoryOwners contract (ports/owners.go).
func RunMemoryOwners(t *testing.T, newStore func(t *testing.T) OwnersStore) {
	t.Run("OwnerOf/FindsTheUserInsideTheOrgOnly", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		tn := newTenant(t)
		m := memOf(t, tn, "cursor", "owned by someone")
		_, _, err := s.Create(ctxFor(t), tn, m)
		require.NoError(t, err)
		user, err := s.OwnerOf(ctxFor(t), tn.OrgID, m.ID)
		require.NoError(t, err)
		require.Equal(t, tn.UserID, user)
		_, err = s.OwnerOf(ctxFor(t), newTenant(t).OrgID, m.ID)
		requireKind(t, err, domain.ErrNotFound, "another org")
		_, err = s.OwnerOf(ctxFor(t), tn.OrgID, domain.NewMemoryID(time.Now()))
		requireKind(t, err, domain.ErrNotFound, "no such memory")
	})
}
