package sqlitestore

import (
	"context"
	"fmt"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.MemoryOwners = (*Store)(nil)

// OwnerOf implements ports.MemoryOwners.
func (s *Store) OwnerOf(ctx context.Context, org domain.OrgID, id domain.MemoryID) (domain.UserID, error) {
	var user string
	err := s.r.QueryRowContext(ctx, `SELECT user_id FROM memories WHERE org_id = ? AND id = ? AND erased = 0`, string(org), string(id)).Scan(&user)
	if err != nil {
		return "", fmt.Errorf("sqlitestore: owner of %s: %w", id, mapErr(err))
	}
	return domain.UserID(user), nil
}
