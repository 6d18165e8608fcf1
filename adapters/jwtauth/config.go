package jwtauth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/engram-memory/engram/ports"
)

// Defaults for the zero-config local key and for unset durations.
const (
	LocalIssuer     = "engram-local" // iss of tokens minted by a LocalKey
	DefaultAudience = "engram"       // aud when none is configured
	DefaultLeeway   = 30 * time.Second
	MaxLeeway       = 60 * time.Second
	// DefaultProofMaxAge is how old a DPoP proof's iat may be. RFC 9449 leaves
	// it to the server; a minute tolerates slow clients and keeps the replay
	// cache small.
	DefaultProofMaxAge = 60 * time.Second
	// DefaultRefreshInterval re-reads the JWKS so rotated keys are picked up
	// and revoked ones dropped.
	DefaultRefreshInterval = time.Hour
	// DefaultUnknownKIDInterval limits refreshes triggered by tokens naming an
	// unknown kid: a new key is found quickly, and a flood of made-up kids
	// costs the identity provider at most one request per interval.
	DefaultUnknownKIDInterval = 30 * time.Second
	// DefaultRetryMax bounds the backoff while the JWKS cannot be fetched.
	DefaultRetryMax    = 30 * time.Second
	DefaultHTTPTimeout = 10 * time.Second
)

// Config configures a Verifier. Zero durations take the defaults above.
type Config struct {
	JWKSURL  string // remote JWK Set (NewJWKS only)
	Issuer   string // required iss; LocalIssuer for NewLocal when empty
	Audience string // required aud; DefaultAudience for NewLocal when empty
	// Resource is the protected resource's URL, served as "resource" in
	// its RFC 9728 metadata; a token whose aud names it is accepted too, as
	// RFC 8707 clients request tokens for that URL. Empty: Audience only.
	Resource string

	// PublicURL is the origin clients reach the API at (e.g.
	// http://127.0.0.1:8765). When Credentials.URL is only a path, htu is
	// checked against PublicURL + path; it is never derived from Host headers.
	PublicURL string

	// RequireATJWT refuses access tokens whose typ header is not at+jwt
	// (RFC 9068 §4; "application/at+jwt" too). NewLocal always requires
	// it (its tokens carry it); for a JWKS issuer it is opt-in
	// (ENGRAM_AUTH_REQUIRE_AT_JWT), since many identity providers still
	// mint plain "JWT" access tokens.
	RequireATJWT bool

	// ReplayCache remembers DPoP proof jti values; required.
	ReplayCache ports.ReplayCache
	Clock       ports.Clock // SystemClock when nil

	Leeway      time.Duration // clock skew for exp/nbf/iat and proof iat; at most MaxLeeway
	ProofMaxAge time.Duration // oldest acceptable DPoP proof iat

	RefreshInterval    time.Duration // periodic JWKS refresh
	UnknownKIDInterval time.Duration // minimum gap between unknown-kid refreshes
	RetryMax           time.Duration // backoff cap while the JWKS is unreachable
	HTTPTimeout        time.Duration // deadline of one JWKS request
	HTTPClient         *http.Client  // http.DefaultClient when nil

	// TokenCacheSize is how many verified access tokens are remembered
	// (DefaultTokenCacheSize when 0, disabled when negative); TokenCacheTTL
	// bounds the reuse of one verification (DefaultTokenCacheTTL when 0).
	TokenCacheSize int
	TokenCacheTTL  time.Duration
}

// withDefaults fills unset fields and validates the rest, naming the bad key.
func (c Config) withDefaults() (Config, error) {
	if c.ReplayCache == nil {
		return c, errors.New("jwtauth: config: ReplayCache is required (DPoP proofs are never accepted unchecked)")
	}
	if c.Clock == nil {
		c.Clock = ports.SystemClock{}
	}
	if c.Leeway == 0 {
		c.Leeway = DefaultLeeway
	}
	if c.Leeway < 0 || c.Leeway > MaxLeeway {
		return c, fmt.Errorf("jwtauth: config: Leeway %s must be between 0 and %s", c.Leeway, MaxLeeway)
	}
	if c.ProofMaxAge <= 0 {
		c.ProofMaxAge = DefaultProofMaxAge
	}
	if c.RefreshInterval <= 0 {
		c.RefreshInterval = DefaultRefreshInterval
	}
	if c.UnknownKIDInterval <= 0 {
		c.UnknownKIDInterval = DefaultUnknownKIDInterval
	}
	if c.RetryMax <= 0 {
		c.RetryMax = DefaultRetryMax
	}
	if c.HTTPTimeout <= 0 {
		c.HTTPTimeout = DefaultHTTPTimeout
	}
	if c.TokenCacheSize == 0 {
		c.TokenCacheSize = DefaultTokenCacheSize
	}
	if c.TokenCacheTTL <= 0 {
		c.TokenCacheTTL = DefaultTokenCacheTTL
	}
	if c.HTTPClient == nil {
		c.HTTPClient = http.DefaultClient
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, fmt.Errorf("jwtauth: config: PublicURL %q must be an absolute http(s) origin", c.PublicURL)
		}
	}
	return c, nil
}
