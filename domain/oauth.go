package domain

import (
	"time"
)

// OAuthClient is a client registered with the built-in authorization server
// (RFC 7591). Every client is public (token_endpoint_auth_method "none"):
// it proves nothing by its id alone, which is why every code is bound to a
// PKCE challenge and to one of the client's redirect URIs.
type OAuthClient struct {
	ID           string // random, issued at registration
	Name         string // client_name as the client sent it, shown on the consent page
	RedirectURIs []string
	CreatedAt    time.Time
}

// MaxOAuthClientNameLen bounds a client's name; MaxOAuthRedirectURIs and
// MaxOAuthRedirectURILen bound its redirect URIs, so a registration can only
// store a few kilobytes.
const (
	MaxOAuthClientNameLen  = 200
	MaxOAuthRedirectURIs   = 10
	MaxOAuthRedirectURILen = 2000
)

// Validate checks the shape a store relies on; the redirect URI rules
// (loopback http or https only) are the authorization server's.
func (c OAuthClient) Validate() error {
	if c.ID == "" || len(c.ID) > 100 {
		return Invalid("client_id", "must be 1-100 characters")
	}
	if len(c.Name) > MaxOAuthClientNameLen {
		return Invalid("client_name", "must be at most %d bytes", MaxOAuthClientNameLen)
	}
	if len(c.RedirectURIs) == 0 || len(c.RedirectURIs) > MaxOAuthRedirectURIs {
		return Invalid("redirect_uris", "must hold 1-%d URIs", MaxOAuthRedirectURIs)
	}
	for _, u := range c.RedirectURIs {
		if u == "" || len(u) > MaxOAuthRedirectURILen {
			return Invalid("redirect_uris", "each must be 1-%d bytes", MaxOAuthRedirectURILen)
		}
	}
	return nil
}

// OAuthUser is a user who can sign in to the built-in authorization server:
// the local user of a zero-config instance or one added with `engram user
// add`. Secrets are stored hashed: PasswordHash in a salted slow-hash
// format the authorization server writes, CodeHash as the SHA-256 of a
// one-time sign-in code (random, 128 bits or more).
type OAuthUser struct {
	OrgID         OrgID
	UserID        UserID
	PasswordHash  string    // empty: no password set
	CodeHash      string    // empty: no one-time code pending
	CodeExpiresAt time.Time // when CodeHash stops being accepted
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Tenant is the user's org and id.
func (u OAuthUser) Tenant() Tenant { return Tenant{OrgID: u.OrgID, UserID: u.UserID} }

// OAuthGrant is one authorization a user gave one client: a token family.
// The authorization code and every refresh token rotated from it belong to
// it, and revoking it (by the user, by RFC 7009, or because a used code or
// refresh token was presented again) ends them all.
type OAuthGrant struct {
	ID            string // UUIDv7
	OrgID         OrgID
	UserID        UserID
	ClientID      string
	Scopes        []Scope
	RedirectURI   string // the one the code was issued for; /token must repeat it
	CodeChallenge string // PKCE S256 challenge the code's verifier must match
	CreatedAt     time.Time
	RevokedAt     time.Time // zero: live
}

// Validate checks the grant's tenant, id and bounds.
func (g OAuthGrant) Validate() error {
	if err := (Tenant{OrgID: g.OrgID, UserID: g.UserID}).Validate(); err != nil {
		return err
	}
	if !ValidID(g.ID) {
		return Invalid("id", "must be a UUID")
	}
	if g.ClientID == "" || g.RedirectURI == "" || g.CodeChallenge == "" {
		return Invalid("grant", "client_id, redirect_uri and code_challenge are required")
	}
	return nil
}

// How long after its expiry the retention sweeper keeps an authorization
// code or a refresh token row (ports.RetentionStore.PurgeExpiredOAuthTokens
// says why a used one is kept at all).
const (
	OAuthCodeGrace    = time.Hour
	OAuthRefreshGrace = 24 * time.Hour
)

// OAuthTokenKind tells an authorization code from a refresh token.
type OAuthTokenKind string

const (
	OAuthCode    OAuthTokenKind = "code"
	OAuthRefresh OAuthTokenKind = "refresh"
)

// OAuthToken is a single-use secret of a grant, stored as its hex SHA-256.
type OAuthToken struct {
	Hash      string
	GrantID   string
	Kind      OAuthTokenKind
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero: not yet used
}

// Validate checks a token before it is stored.
func (t OAuthToken) Validate() error {
	if len(t.Hash) != 64 {
		return Invalid("token", "hash must be a hex SHA-256")
	}
	if t.Kind != OAuthCode && t.Kind != OAuthRefresh {
		return Invalid("token", "kind must be code or refresh")
	}
	if t.ExpiresAt.IsZero() {
		return Invalid("token", "expiry is required")
	}
	return nil
}
