package pgstore

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.MemoryOwners = (*Store)(nil)

// OwnerOf implements ports.MemoryOwners; the org setting of the transaction
// confines it as much as the predicate does.
func (s *Store) OwnerOf(ctx context.Context, org domain.OrgID, id domain.MemoryID) (domain.UserID, error) {
	if !domain.ValidID(string(id)) {
		return "", fmt.Errorf("pgstore: owner of %s: %w", id, domain.ErrNotFound)
	}
	var user string
	err := s.inTx(ctx, org, true, func(tx *sqlx.Tx) error {
		return noRows(tx.GetContext(ctx, &user, `SELECT user_id FROM memories WHERE org_id = $1 AND id = $2 AND erased_at IS NULL`, org, id))
	})
	if err != nil {
		return "", fmt.Errorf("pgstore: owner of %s: %w", id, mapErr(err))
	}
	return domain.UserID(user), nil
}
