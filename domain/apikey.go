package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// KeyPrefix starts every API key, so a leaked key is recognisable (secret
// scanners match it) and the transport can tell a key from a JWT without
// parsing either.
const KeyPrefix = "egm_"

// keySecretBytes of randomness make a key: 256 bits, so a plain SHA-256 of
// the key is a safe stored form (no salt or slow hash is needed against a
// search space of 2^256).
const keySecretBytes = 32

// keyLen is len(KeyPrefix) + the unpadded base64url of keySecretBytes.
var keyLen = len(KeyPrefix) + base64.RawURLEncoding.EncodedLen(keySecretBytes)

// KeyDisplayLen is how much of a key is kept in clear for lists and logs:
// the prefix and 8 characters, enough to tell keys apart, far too little to
// guess the rest.
const KeyDisplayLen = 12

// KeyKind says whom a key acts for.
type KeyKind string

const (
	// KeyUser acts as the one user it was issued to, like that user's token.
	KeyUser KeyKind = "user"
	// KeyProject acts for any user of its org, named per request (user_id),
	// as mem0's project keys do. It never reaches another org.
	KeyProject KeyKind = "project"
)

// APIKey is a long-lived credential. Only its hash is stored; the key itself
// is shown once, when it is created.
type APIKey struct {
	ID         string  // UUIDv7
	OrgID      OrgID   // the org it is confined to
	UserID     UserID  // the user a KeyUser acts as; empty for KeyProject
	Kind       KeyKind //
	Name       string  // what the owner called it
	Scopes     []Scope // the same scopes as tokens
	AppID      AppID   // when set, every write is attributed to this app
	Hash       string  // hex SHA-256 of the key
	Display    string  // the first KeyDisplayLen characters of the key
	CreatedBy  UserID  // who issued it
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: never
	LastUsedAt time.Time // zero: never used
	RevokedAt  time.Time // zero: live
}

// MaxKeyNameLen bounds a key's name.
const MaxKeyNameLen = 100

// NewAPIKey mints a key: it returns the record to store and the key, which
// exists nowhere else and must be shown to the caller once.
func NewAPIKey(k APIKey, now time.Time) (APIKey, string, error) {
	if err := (Tenant{OrgID: k.OrgID, UserID: k.CreatedBy}).Validate(); err != nil {
		return APIKey{}, "", err
	}
	switch k.Kind {
	case KeyUser:
		if err := (Tenant{OrgID: k.OrgID, UserID: k.UserID}).Validate(); err != nil {
			return APIKey{}, "", err
		}
	case KeyProject:
		if k.UserID != "" {
			return APIKey{}, "", Invalid("user_id", "a project key acts for the user named per request, so it has none")
		}
	default:
		return APIKey{}, "", Invalid("kind", "must be user or project")
	}
	if len(k.Name) > MaxKeyNameLen || strings.ContainsFunc(k.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return APIKey{}, "", Invalid("name", "must be at most %d printable characters", MaxKeyNameLen)
	}
	if len(k.Scopes) == 0 {
		return APIKey{}, "", Invalid("scopes", "must name at least one scope")
	}
	if k.AppID != "" {
		if err := ValidateAppID(k.AppID); err != nil {
			return APIKey{}, "", err
		}
	}
	if !k.ExpiresAt.IsZero() && !k.ExpiresAt.After(now) {
		return APIKey{}, "", Invalid("expires_at", "must be in the future")
	}
	var b [keySecretBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	key := KeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	k.ID = NewID(now)
	k.Scopes = slices.Clone(k.Scopes)
	k.Hash = HashKey(key)
	k.Display = key[:KeyDisplayLen]
	k.CreatedAt = now.UTC()
	k.LastUsedAt, k.RevokedAt = time.Time{}, time.Time{}
	return k, key, nil
}

// HashKey is the stored form of a key: hex SHA-256.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// LooksLikeKey reports whether s has an API key's shape (prefix, length,
// base64url alphabet). It says nothing about whether the key exists.
func LooksLikeKey(s string) bool {
	if len(s) != keyLen || !strings.HasPrefix(s, KeyPrefix) {
		return false
	}
	for i := len(KeyPrefix); i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// Usable refuses a revoked or expired key with an AuthError; the scheme is
// the one the request used, for the challenge.
func (k APIKey) Usable(scheme string, now time.Time) error {
	switch {
	case !k.RevokedAt.IsZero():
		return &AuthError{Scheme: scheme, Code: "invalid_token", Description: "the API key was revoked"}
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		return &AuthError{Scheme: scheme, Code: "invalid_token", Description: "the API key expired"}
	}
	return nil
}

// Principal is the caller a key stands for. A project key's principal has
// no user until ActAs names one.
func (k APIKey) Principal() Principal {
	return Principal{
		OrgID: k.OrgID, UserID: k.UserID, Scopes: slices.Clone(k.Scopes),
		ClientID: string(k.AppID), TokenID: "key:" + k.ID, KeyID: k.ID, ProjectKey: k.Kind == KeyProject,
		BoundApp: k.AppID,
	}
}

// Validate refuses a stored record NewAPIKey would not have built: stores
// check it before writing.
func (k APIKey) Validate() error {
	if !ValidID(k.ID) {
		return Invalid("id", "must be a lower-case UUID")
	}
	if !validKeyHash(k.Hash) {
		return Invalid("hash", "must be a hex SHA-256")
	}
	if err := (Tenant{OrgID: k.OrgID, UserID: k.CreatedBy}).Validate(); err != nil {
		return err
	}
	switch {
	case k.Kind == KeyUser && k.UserID != "":
		if err := (Tenant{OrgID: k.OrgID, UserID: k.UserID}).Validate(); err != nil {
			return err
		}
	case k.Kind == KeyProject && k.UserID == "":
	default:
		return Invalid("kind", "a user key names its user, a project key none")
	}
	if len(k.Scopes) == 0 {
		return Invalid("scopes", "must name at least one scope")
	}
	return nil
}

// validKeyHash is what HashKey produces: 64 lower-case hex digits.
func validKeyHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
