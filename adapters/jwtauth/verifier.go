package jwtauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// allowedAlgs is the asymmetric allow-list for access tokens and DPoP proofs.
// It is enforced on the token's own alg before any key is looked up, so
// "none" and HMAC (signed with a public key as the secret) never verify.
var allowedAlgs = []string{"RS256", "ES256", "EdDSA"}

// Algorithms returns the accepted signature algorithms, for the algs
// parameter of a DPoP WWW-Authenticate challenge (RFC 9449 §7.1).
func Algorithms() []string { return slices.Clone(allowedAlgs) }

// Schemes as they appear in Authorization headers and in AuthError.Scheme.
const (
	SchemeBearer = "Bearer"
	SchemeDPoP   = "DPoP"
)

// maxTokenLen bounds what is parsed at all: real tokens are under 4 KiB.
const maxTokenLen = 16 << 10

// keySource finds the verification key for a token whose kid was checked.
type keySource interface {
	key(ctx context.Context, t *jwt.Token) (any, error)
	ready(ctx context.Context) error
	close()
}

// Verifier implements ports.TokenVerifier. It is safe for concurrent use.
type Verifier struct {
	cfg         Config
	keys        keySource
	tokenParser *jwt.Parser
	proofParser *jwt.Parser
	cache       *tokenCache
}

var _ ports.DeferredReplayVerifier = (*Verifier)(nil)

func newVerifier(cfg Config, keys keySource) *Verifier {
	return &Verifier{
		cfg:   cfg,
		keys:  keys,
		cache: newTokenCache(cfg.TokenCacheSize, cfg.TokenCacheTTL),
		tokenParser: jwt.NewParser(
			jwt.WithValidMethods(allowedAlgs),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(cfg.Leeway),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(audiences(cfg)...), // any one of them
			jwt.WithTimeFunc(cfg.Clock.Now),
		),
		// Proof claims are checked by hand against the proof window.
		proofParser: jwt.NewParser(jwt.WithValidMethods(allowedAlgs), jwt.WithoutClaimsValidation()),
	}
}

func audiences(cfg Config) []string {
	if cfg.Resource == "" || cfg.Resource == cfg.Audience {
		return []string{cfg.Audience}
	}
	return []string{cfg.Audience, cfg.Resource}
}

// Ready reports nil once verification keys are loaded; before that an error
// wrapping domain.ErrUnavailable, for /readyz.
func (v *Verifier) Ready(ctx context.Context) error { return v.keys.ready(ctx) }

// Close stops background JWKS refreshing. Verify keeps using the last keys.
func (v *Verifier) Close() { v.keys.close() }

// accessClaims are the claims Engram reads from an access token.
type accessClaims struct {
	jwt.RegisteredClaims
	OrgID    string `json:"org_id"`
	Scope    string `json:"scope,omitempty"`
	ClientID string `json:"client_id,omitempty"`
	Cnf      *struct {
		JKT string `json:"jkt"`
	} `json:"cnf,omitempty"`
}

func (c *accessClaims) jkt() string {
	if c.Cnf == nil {
		return ""
	}
	return c.Cnf.JKT
}

// mediaType is a typ header as RFC 8725 §3.11 and RFC 7515 §4.1.9 compare
// it: case-insensitive, "application/" optional.
func mediaType(typ string) string {
	t := strings.ToLower(strings.TrimSpace(typ))
	return strings.TrimPrefix(t, "application/")
}

// Verify checks the access token and, for the DPoP scheme, its proof, and
// returns the principal the token names.
func (v *Verifier) Verify(ctx context.Context, c ports.Credentials) (domain.Principal, error) {
	p, commit, err := v.VerifyDeferred(ctx, c)
	if err != nil {
		return domain.Principal{}, err
	}
	if commit != nil {
		if err := commit(ctx); err != nil {
			return domain.Principal{}, err
		}
	}
	return p, nil
}

// VerifyDeferred is Verify without the DPoP proof's replay check, which the
// returned commit makes (nil for the Bearer scheme). The transports call
// commit once the rate limiter has admitted the request.
func (v *Verifier) VerifyDeferred(ctx context.Context, c ports.Credentials) (domain.Principal, func(context.Context) error, error) {
	p, use, err := v.verify(ctx, c)
	if err != nil || use.key == "" {
		return p, nil, err
	}
	return p, func(ctx context.Context) error { return v.commit(ctx, use) }, nil
}

func (v *Verifier) verify(ctx context.Context, c ports.Credentials) (domain.Principal, oneTimeUse, error) {
	var use oneTimeUse
	var scheme string
	switch {
	case strings.EqualFold(c.Scheme, SchemeBearer):
		scheme = SchemeBearer
	case strings.EqualFold(c.Scheme, SchemeDPoP):
		scheme = SchemeDPoP
	default:
		return domain.Principal{}, use, authErr(SchemeBearer, "invalid_request", "authorization scheme must be Bearer or DPoP")
	}
	if c.Token == "" || len(c.Token) > maxTokenLen {
		return domain.Principal{}, use, authErr(scheme, "invalid_request", "missing or oversized access token")
	}
	sum := tokenSum(c.Token)
	claims, err := v.access(ctx, scheme, c.Token, sum)
	if err != nil {
		return domain.Principal{}, use, err
	}
	p := domain.Principal{
		OrgID:    domain.OrgID(claims.OrgID),
		UserID:   domain.UserID(claims.Subject),
		Scopes:   domain.ParseScopes(claims.Scope),
		ClientID: claims.ClientID,
		TokenID:  claims.ID,
		KeyJKT:   claims.jkt(),
	}
	if claims.OrgID == "" {
		return domain.Principal{}, use, authErr(scheme, "invalid_token", "token has no org_id claim")
	}
	if err := p.Tenant().Validate(); err != nil {
		return domain.Principal{}, use, authErr(scheme, "invalid_token", "token sub or org_id is malformed")
	}
	if claims.Cnf != nil && claims.Cnf.JKT == "" {
		// A cnf claim names a key binding; one without a thumbprint is
		// not "unbound", it is broken.
		return domain.Principal{}, use, authErr(scheme, "invalid_token", "token cnf claim has no jkt")
	}
	switch scheme {
	case SchemeBearer:
		if c.DPoPProof != "" && p.KeyJKT == "" {
			// RFC 9449 §7.2: a DPoP header with the Bearer scheme is a
			// malformed request, not a proof to ignore.
			return domain.Principal{}, use, authErr(scheme, "invalid_request", "a DPoP proof header was sent with the Bearer scheme")
		}
		if p.KeyJKT != "" {
			return domain.Principal{}, use, authErr(scheme, "invalid_token", "token is DPoP-bound and must be sent with the DPoP scheme")
		}
	case SchemeDPoP:
		if p.KeyJKT == "" {
			return domain.Principal{}, use, authErr(scheme, "invalid_token", "token is not DPoP-bound")
		}
		if c.DPoPProof == "" {
			return domain.Principal{}, use, authErr(scheme, "invalid_request", "DPoP proof header is missing")
		}
		if use, err = v.checkProof(c, sum, p.KeyJKT); err != nil {
			return domain.Principal{}, use, err
		}
	}
	return p, use, nil
}

// access returns the claims of a verified access token, from the cache when
// this exact token verified recently.
func (v *Verifier) access(ctx context.Context, scheme, raw string, sum [32]byte) (*accessClaims, error) {
	now := v.cfg.Clock.Now()
	if claims, ok := v.cache.get(sum, now); ok {
		return claims, nil
	}
	claims, err := v.parseAccess(ctx, scheme, raw)
	if err != nil {
		return nil, err
	}
	v.cache.put(sum, claims, now, v.cfg.Leeway)
	return claims, nil
}

// parseAccess verifies signature and registered claims of an access token.
func (v *Verifier) parseAccess(ctx context.Context, scheme, raw string) (*accessClaims, error) {
	var claims accessClaims
	_, err := v.tokenParser.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		if _, ok := t.Header["crit"]; ok {
			return nil, errCrit
		}
		if kid, ok := t.Header["kid"].(string); !ok || kid == "" {
			return nil, errNoKID
		}
		typ, _ := t.Header["typ"].(string)
		switch mt := mediaType(typ); {
		case mt == "dpop+jwt":
			return nil, errProofAsToken
		case v.cfg.RequireATJWT && mt != "at+jwt":
			return nil, errNotATJWT
		}
		return v.keys.key(ctx, t)
	})
	if err != nil {
		return nil, mapErr(scheme, err)
	}
	return &claims, nil
}

var (
	errCrit         = errors.New("crit header is not supported")
	errNoKID        = errors.New("kid header is missing")
	errProofAsToken = errors.New("a DPoP proof is not an access token")
	errNotATJWT     = errors.New("typ is not at+jwt")
	errUnknownKID   = errors.New("kid is not a known key")
)

// mapErr is the adapter's one translation of verification failures: key
// unavailability stays ErrUnavailable (the caller answers 503, never
// success); everything else is an invalid_token AuthError whose description
// is a fixed phrase, safe to put in a WWW-Authenticate header.
func mapErr(scheme string, err error) error {
	if errors.Is(err, domain.ErrUnavailable) {
		return fmt.Errorf("jwtauth: verify token: %w", err)
	}
	desc := "token is invalid"
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		desc = "token is malformed"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		desc = "token signature or algorithm is invalid"
	case errors.Is(err, jwt.ErrTokenExpired):
		desc = "token is expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		desc = "token is not valid yet"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		desc = "token lacks a required claim"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		desc = "token issuer is not trusted"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		desc = "token audience is wrong"
	case errors.Is(err, errCrit):
		desc = "token has a crit header"
	case errors.Is(err, errNoKID):
		desc = "token has no kid header"
	case errors.Is(err, errProofAsToken):
		desc = "a DPoP proof is not an access token"
	case errors.Is(err, errNotATJWT):
		desc = "token typ must be at+jwt"
	case errors.Is(err, errUnknownKID):
		desc = "token key is unknown"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		desc = "token cannot be verified"
	}
	return authErr(scheme, "invalid_token", desc)
}

func authErr(scheme, code, desc string) error {
	return &domain.AuthError{Scheme: scheme, Code: code, Description: desc}
}
