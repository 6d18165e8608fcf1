package ports

import (
	"context"

	"github.com/engram-memory/engram/domain"
)

// MemoryOwners finds whose memory an id is, inside one org. It serves
// credentials that act for any user of an org (project API keys) when a
// request names a memory but no user, as mem0's clients do.
type MemoryOwners interface {
	// OwnerOf returns the user of org that owns memory id, or an error
	// wrapping domain.ErrNotFound when org has no such memory (erased ones
	// included, and those of every other org).
	OwnerOf(ctx context.Context, org domain.OrgID, id domain.MemoryID) (domain.UserID, error)
}
