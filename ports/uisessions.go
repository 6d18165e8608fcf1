package ports

import (
	"context"
	"time"

	"github.com/engram-memory/engram/domain"
)

// UISessionStore keeps the dashboard's signed-in browsers (domain.UISession)
// so that a session outlives the engramd process that made it and is seen
// by every process on the same store. Sessions are keyed by the SHA-256 of
// the browser's cookie; the access and refresh tokens are sealed with the
// user's data key when the store seals (an erasure shreds them).
//
// GetUISession runs before any org is known, as OAuthStore.UseToken does:
// it finds a session by its hash alone (knowing the hash of a 256-bit
// random cookie is knowing the cookie). Every other method is scoped to
// the session's tenant.
//
// Expired sessions of users who do not sign in again are deleted by the
// retention sweeper (RetentionStore.PurgeExpiredUISessions).
type UISessionStore interface {
	// PutUISession stores s (a new session). It first deletes the user's
	// sessions that expired by s.CreatedAt and, when the user then holds
	// max or more, their oldest ones, so a user holds at most max. A
	// session failing s.Validate wraps domain.ErrInvalid; an IDHash
	// already stored is domain.ErrAlreadyExists.
	PutUISession(ctx context.Context, s domain.UISession, max int) error

	// GetUISession returns the session whose cookie hashes to idHash, or
	// domain.ErrNotFound (unknown, or expired at now).
	GetUISession(ctx context.Context, idHash string, now time.Time) (domain.UISession, error)

	// ClaimUISessionRefresh takes the session's refresh lease until until,
	// when no other holder's lease runs at now, and reports whether it did.
	// Refresh tokens rotate and a reused one revokes the whole grant, so of
	// several processes that find one session's access token about to
	// expire, exactly one refreshes; the others keep using the current
	// token. An unknown session is domain.ErrNotFound.
	ClaimUISessionRefresh(ctx context.Context, t domain.Tenant, idHash string, now, until time.Time) (bool, error)

	// SaveUISessionTokens replaces the session's tokens and releases its
	// refresh lease. An unknown session (or another tenant's) is
	// domain.ErrNotFound.
	SaveUISessionTokens(ctx context.Context, t domain.Tenant, idHash, access, refresh string, accessExpiresAt time.Time) error

	// DeleteUISession ends the session (sign-out); deleting an unknown one
	// is no error.
	DeleteUISession(ctx context.Context, t domain.Tenant, idHash string) error
}
