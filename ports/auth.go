package ports

import (
	"context"
	"time"

	"github.com/engram-memory/engram/domain"
)

// Credentials are what a request presented, already split by the transport.
type Credentials struct {
	Scheme    string // "Bearer" or "DPoP", as in the Authorization header
	Token     string // the access token (a JWT)
	DPoPProof string // the DPoP header, empty when absent
	Method    string // HTTP method of the request, for the proof's htm
	URL       string // public URL of the request (configured origin + path), for htu
}

// TokenVerifier turns credentials into a principal.
//
// It answers a *domain.AuthError (wrapping domain.ErrUnauthenticated) for any
// refused token or proof, naming the RFC error code; an error wrapping
// domain.ErrUnavailable when it cannot decide (JWKS unreachable, replay
// cache down); it never accepts a proof it could not check for replay.
type TokenVerifier interface {
	Verify(ctx context.Context, c Credentials) (domain.Principal, error)
}

// DeferredReplayVerifier is a TokenVerifier that can check everything but a
// DPoP proof's one-time use, leaving that to a commit the transport calls
// once it has admitted the request (after the rate limiter): a refused
// request then never writes the replay cache, so a client over its budget
// cannot fill the cache with jti values. VerifyDeferred's errors are
// Verify's; commit (nil when nothing is left to check) answers the replay
// refusal (*domain.AuthError) or domain.ErrUnavailable exactly as Verify
// would, and must be called before the request is served.
type DeferredReplayVerifier interface {
	TokenVerifier
	VerifyDeferred(ctx context.Context, c Credentials) (p domain.Principal, commit func(context.Context) error, err error)
}

// VerifyDeferred verifies c with v, deferring the replay check when v can;
// otherwise the check has been made and commit is nil.
func VerifyDeferred(ctx context.Context, v TokenVerifier, c Credentials) (domain.Principal, func(context.Context) error, error) {
	if d, ok := v.(DeferredReplayVerifier); ok {
		return d.VerifyDeferred(ctx, c)
	}
	p, err := v.Verify(ctx, c)
	return p, nil, err
}

// ReplayCache remembers one-time values (DPoP proof jti) until an expiry.
//
// Remember atomically records key until the given time and reports fresh=true,
// or reports fresh=false when the key is already remembered and unexpired;
// of any number of concurrent calls with one key exactly one sees true.
// Entries must outlive the proof acceptance window: a backend that may evict
// entries early weakens replay protection, because an evicted jti can be
// replayed. Valkey must therefore run with maxmemory-policy noeviction; an
// in-process cache that is full refuses new keys (domain.ErrUnavailable)
// rather than forget unexpired ones. An empty key or an until that is not in
// the future wraps domain.ErrInvalid. Backend failures wrap
// domain.ErrUnavailable; callers fail closed (never accept a proof unchecked).
type ReplayCache interface {
	Remember(ctx context.Context, key string, until time.Time) (fresh bool, err error)
}
