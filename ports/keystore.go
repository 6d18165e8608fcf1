package ports

import (
	"context"
	"time"

	"github.com/engram-memory/engram/domain"
)

// KeyStore keeps API keys: only their hashes, never a key.
//
// Every method but Lookup is scoped to an org, and a key of another org is
// domain.ErrNotFound (on PostgreSQL, row-level security binds the org as for
// memories). Lookup is the authentication step itself: it runs before any
// tenant is known, so it finds a key by its hash alone; knowing the hash of
// a 256-bit random key is knowing the key.
type KeyStore interface {
	// CreateKey stores k as built by domain.NewAPIKey. A second key with the
	// same id or hash is domain.ErrAlreadyExists; a key failing its own
	// validation (org, kind, scopes) wraps domain.ErrInvalid.
	CreateKey(ctx context.Context, k domain.APIKey) error

	// LookupKey returns the key whose Hash is hash, revoked and expired
	// keys included (the caller decides), or domain.ErrNotFound. A write
	// (CreateKey, RevokeKey) is visible to LookupKey once it has returned.
	LookupKey(ctx context.Context, hash string) (domain.APIKey, error)

	// ListKeys returns org's keys, newest first: only user's user keys when
	// user is not empty, every key of the org otherwise. Revoked keys are
	// listed (with RevokedAt) so an audit sees them.
	ListKeys(ctx context.Context, org domain.OrgID, user domain.UserID) ([]domain.APIKey, error)

	// GetKey returns one key of org by id, or domain.ErrNotFound.
	GetKey(ctx context.Context, org domain.OrgID, id string) (domain.APIKey, error)

	// RevokeKey marks the key revoked at at and returns it. Revoking a
	// revoked key keeps the first time and succeeds (idempotent); an
	// unknown id, or one of another org, is domain.ErrNotFound.
	RevokeKey(ctx context.Context, org domain.OrgID, id string, at time.Time) (domain.APIKey, error)

	// TouchKey records that the key was used at at. It never moves
	// LastUsedAt backwards; an unknown key is domain.ErrNotFound.
	TouchKey(ctx context.Context, org domain.OrgID, id string, at time.Time) error
}

// KeyRevocations tells every instance that a key was revoked, so a cached
// verification is dropped at once instead of when its entry expires.
//
// Publish is delivered to every subscriber, on this instance and others,
// best effort: Subscribe's lost callback is called when the subscription
// was interrupted (messages may have been missed), and the subscriber then
// forgets everything it cached. Subscribe returns once subscribed and
// delivers until ctx ends.
type KeyRevocations interface {
	Publish(ctx context.Context, keyHash string) error
	Subscribe(ctx context.Context, revoked func(keyHash string), lost func()) error
}
