package ports

import (
	"context"
	"time"

	"github.com/engram-memory/engram/domain"
)

// OAuthStore keeps the built-in authorization server's state: registered
// clients, the users who can sign in, and grants (token families) with
// their single-use codes and refresh tokens, stored as SHA-256 hashes only.
//
// Clients are not tenant data (anyone may register one, RFC 7591); users
// and grants are scoped to an org, and on PostgreSQL row-level security
// binds the org as for memories. UseToken and RevokeByToken run before any
// org is known: they find a token by its hash alone, and knowing the hash of
// a 256-bit random secret is knowing the secret.
type OAuthStore interface {
	// CreateClient stores c. A second client with the same id is
	// domain.ErrAlreadyExists; a client failing c.Validate wraps
	// domain.ErrInvalid.
	CreateClient(ctx context.Context, c domain.OAuthClient) error

	// GetClient returns the client, or domain.ErrNotFound.
	GetClient(ctx context.Context, id string) (domain.OAuthClient, error)

	// PutUser creates the user or replaces every field of an existing one
	// but CreatedAt. A malformed org or user wraps domain.ErrInvalid.
	PutUser(ctx context.Context, u domain.OAuthUser) error

	// GetUser returns one user of org, or domain.ErrNotFound (also for a
	// user of another org).
	GetUser(ctx context.Context, org domain.OrgID, user domain.UserID) (domain.OAuthUser, error)

	// CreateGrant stores g with its first token (the authorization code)
	// in one transaction. A grant or token that fails Validate wraps
	// domain.ErrInvalid; a token hash already stored is
	// domain.ErrAlreadyExists and nothing is written.
	CreateGrant(ctx context.Context, g domain.OAuthGrant, first domain.OAuthToken) error

	// UseToken spends the token whose hash is hash, atomically:
	//   - unknown hash, or a token of a revoked grant: domain.ErrNotFound;
	//   - a token already used: the grant is revoked at at (the whole
	//     family ends) and the error wraps domain.ErrConflict;
	//   - otherwise check runs with the grant and the token; its error is
	//     returned as is and nothing is written (a wrong PKCE verifier does
	//     not burn the code);
	//   - otherwise the token is marked used at at and next, when its Hash
	//     is not empty, is stored in the same grant (next.GrantID is set
	//     by the store), and the grant is returned.
	// Of concurrent calls with one hash, exactly one succeeds.
	UseToken(ctx context.Context, hash string, at time.Time, next domain.OAuthToken,
		check func(domain.OAuthGrant, domain.OAuthToken) error) (domain.OAuthGrant, error)

	// RevokeByToken revokes, at at, the grant the token whose hash is hash
	// belongs to (RFC 7009: revoking a refresh token ends its family). An
	// unknown hash is domain.ErrNotFound; a revoked grant keeps its first
	// revocation time.
	RevokeByToken(ctx context.Context, hash string, at time.Time) error

	// ListGrants returns the user's grants, newest first, revoked ones
	// included (with RevokedAt).
	ListGrants(ctx context.Context, t domain.Tenant) ([]domain.OAuthGrant, error)

	// RevokeGrant revokes one of the user's grants at at (idempotent: the
	// first time stays); a grant of another user or org is
	// domain.ErrNotFound.
	RevokeGrant(ctx context.Context, t domain.Tenant, id string, at time.Time) error
}
