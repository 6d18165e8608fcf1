package jwtauth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/engram-memory/engram/domain"
)

// DefaultTokenTTL is the lifetime of a minted token when Claims.TTL is zero.
const DefaultTokenTTL = 24 * time.Hour

// LocalOrg is the org of the zero-config local user.
const LocalOrg = "local"

// Claims describe a token to mint with a LocalKey.
type Claims struct {
	Subject  string         // user id (sub); required
	OrgID    string         // tenant (org_id); required
	Scopes   []domain.Scope // empty means domain.DefaultUserScopes
	ClientID string         // client_id, the default app for writes
	TTL      time.Duration  // DefaultTokenTTL when zero
	JKT      string         // cnf.jkt: bind the token to this DPoP key thumbprint
	Issuer   string         // LocalIssuer when empty
	Audience string         // DefaultAudience when empty
	IssuedAt time.Time      // now when zero; tests mint expired tokens with it
}

// Mint signs an access token (EdDSA, kid = the key's thumbprint) that a
// NewLocal verifier with matching issuer and audience accepts.
func (k *LocalKey) Mint(c Claims) (string, error) {
	if err := (domain.Tenant{OrgID: domain.OrgID(c.OrgID), UserID: domain.UserID(c.Subject)}).Validate(); err != nil {
		return "", fmt.Errorf("jwtauth: mint: %w", err)
	}
	if c.TTL < 0 {
		return "", errors.New("jwtauth: mint: negative TTL")
	}
	if c.TTL == 0 {
		c.TTL = DefaultTokenTTL
	}
	if c.Issuer == "" {
		c.Issuer = LocalIssuer
	}
	if c.Audience == "" {
		c.Audience = DefaultAudience
	}
	if c.IssuedAt.IsZero() {
		c.IssuedAt = time.Now()
	}
	scopes := c.Scopes
	if len(scopes) == 0 {
		scopes = domain.DefaultUserScopes
	}
	names := make([]string, len(scopes))
	for i, s := range scopes {
		names[i] = string(s)
	}
	claims := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    c.Issuer,
			Subject:   c.Subject,
			Audience:  jwt.ClaimStrings{c.Audience},
			IssuedAt:  jwt.NewNumericDate(c.IssuedAt),
			NotBefore: jwt.NewNumericDate(c.IssuedAt),
			ExpiresAt: jwt.NewNumericDate(c.IssuedAt.Add(c.TTL)),
			ID:        randomID(),
		},
		OrgID:    c.OrgID,
		Scope:    strings.Join(names, " "),
		ClientID: c.ClientID,
	}
	if c.JKT != "" {
		claims.Cnf = &struct {
			JKT string `json:"jkt"`
		}{JKT: c.JKT}
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = k.kid
	t.Header["typ"] = "at+jwt" // RFC 9068
	s, err := t.SignedString(k.priv)
	if err != nil {
		return "", fmt.Errorf("jwtauth: mint: %w", err)
	}
	return s, nil
}

// randomID is a 128-bit random identifier for jti values.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}
