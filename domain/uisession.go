package domain

import "time"

// UISession is one browser signed in to the dashboard: the tokens the
// dashboard calls the API with on the user's behalf. The browser holds
// only an opaque cookie; IDHash is that cookie's SHA-256 (hex), so the
// store never holds a value that opens the session.
type UISession struct {
	IDHash          string
	OrgID           OrgID
	UserID          UserID
	Access          string // the access token (a JWT)
	Refresh         string // the refresh token; may be empty (an issuer that grants none)
	AccessExpiresAt time.Time
	CreatedAt       time.Time
	ExpiresAt       time.Time
}

// Tenant is the session's user.
func (s UISession) Tenant() Tenant { return Tenant{OrgID: s.OrgID, UserID: s.UserID} }

// MaxUISessionTokenLen bounds each stored token: an external issuer's
// access token can carry many claims, but not a megabyte.
const MaxUISessionTokenLen = 16 << 10

// Validate checks the shape a store relies on.
func (s UISession) Validate() error {
	if len(s.IDHash) != 64 {
		return Invalid("id_hash", "must be a SHA-256 in hex")
	}
	if err := s.Tenant().Validate(); err != nil {
		return err
	}
	if s.Access == "" || len(s.Access) > MaxUISessionTokenLen || len(s.Refresh) > MaxUISessionTokenLen {
		return Invalid("access_token", "must be 1-%d bytes (refresh_token at most as long)", MaxUISessionTokenLen)
	}
	if s.ExpiresAt.IsZero() || s.CreatedAt.IsZero() {
		return Invalid("expires_at", "must be set")
	}
	return nil
}
