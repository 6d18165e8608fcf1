package ports

import (
	"context"
	"time"

	"github.com/engram-memory/engram/domain"
)

// IdempotentResponse is the first answer to a request sent with an
// Idempotency-Key, kept so that a retry gets it again instead of writing
// twice (draft-ietf-httpapi-idempotency-key-header).
type IdempotentResponse struct {
	Status int
	Header map[string]string // the headers worth replaying (Content-Type, Location)
	Body   []byte
}

// IdempotencyRecord is what is held under one key: the fingerprint of the
// request that first used it, and its response once it finished.
type IdempotencyRecord struct {
	Fingerprint string // a digest of method, path and body
	Done        bool   // false while the first request still runs
	Response    IdempotentResponse
	// LockedFor is, on a record Begin found held and not Done, how long the
	// claim can still last unless its owner renews it (for Retry-After).
	LockedFor time.Duration `json:"-"`
}

// IdempotencyStore keeps Idempotency-Key records per principal.
//
// Tenancy: scope names the principal (org and user); the same key in two
// scopes is two independent records, so one user can never replay or block
// another's request.
//
// Begin atomically claims (scope, key) when nothing holds it and reports
// claimed=true with the record it stored (Done=false) for lock; of any
// number of concurrent Begins of one key exactly one claims it. Otherwise it
// reports claimed=false and the record held: still running (Done=false) or
// finished, with the first request's fingerprint either way, so the caller
// can tell a retry from a different request reusing the key, and for a
// claim still running its LockedFor (> 0, at most the claim's lock). A
// claim that is neither renewed, finished nor abandoned within lock expires
// (the process that made it died) and the key is free again.
//
// Renew extends a running claim of (scope, key) made for fingerprint to
// lock from now, and reports whether it did: false when the key is free,
// finished, or claimed for another fingerprint. The owner renews a short
// lock while its request runs, so a crash frees the key within one lock.
//
// Finish stores the finished record for ttl (24 h in the API), replacing
// the claim. Abandon drops the claim so a retry runs anew (the first
// attempt failed in a way worth retrying); abandoning a free key is a
// no-op. A finished record is visible to every later Begin once Finish
// returns.
//
// An empty scope, key or fingerprint, or a non-positive lock or ttl, wraps
// domain.ErrInvalid. Backend failures wrap domain.ErrUnavailable; callers
// must then refuse the request rather than run it unguarded.
type IdempotencyStore interface {
	Begin(ctx context.Context, scope, key, fingerprint string, lock time.Duration) (rec IdempotencyRecord, claimed bool, err error)
	Renew(ctx context.Context, scope, key, fingerprint string, lock time.Duration) (bool, error)
	Finish(ctx context.Context, scope, key string, rec IdempotencyRecord, ttl time.Duration) error
	Abandon(ctx context.Context, scope, key string) error
}

// CheckIdempotency validates the arguments every IdempotencyStore method
// shares, so that adapters refuse the same calls the same way.
func CheckIdempotency(scope, key string, ttl time.Duration) error {
	switch {
	case scope == "":
		return domain.Invalid("scope", "must not be empty")
	case key == "":
		return domain.Invalid("key", "must not be empty")
	case ttl <= 0:
		return domain.Invalid("ttl", "must be positive")
	}
	return nil
}
