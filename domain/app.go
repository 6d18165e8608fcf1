package domain

import (
	"strings"
	"time"
)

// AppID names a client that reads and writes memories: claude-desktop,
// cursor, my-agent. It is a slug, unique per user, and doubles as the app's
// display name so that a memory's "app" field needs no join to be readable.
type AppID string

// DefaultApp is used when neither the request nor the token names a client.
const DefaultApp AppID = "default"

// validAppID is ^[a-z0-9][a-z0-9._-]{0,63}$ written out (it runs for every
// memory written).
func validAppID(s string) bool {
	if len(s) == 0 || len(s) > 64 || !isLowerAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLowerAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isLowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// ValidateAppID refuses anything that is not a 1-64 byte lower-case slug.
func ValidateAppID(a AppID) error {
	if !validAppID(string(a)) {
		return Invalid("app", "must be 1-64 characters of a-z, 0-9 and ._- starting with a letter or digit")
	}
	return nil
}

// AppIDFromClientName turns a free-form client name ("Claude Desktop",
// "cursor-vscode 1.2") into a slug, or DefaultApp when nothing usable is left.
func AppIDFromClientName(name string) AppID {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(strings.TrimSpace(name)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_':
			b.WriteRune(r)
			dash = false
		default:
			if b.Len() > 0 && !dash {
				b.WriteByte('-')
				dash = true
			}
		}
		if b.Len() >= 64 {
			break
		}
	}
	s := strings.Trim(b.String(), "-._")
	// A bridge names itself and its version after the client
	// ("claude-desktop-via-mcp-remote-0.15.1"): without the cut, every
	// upgrade of the bridge would file memories under a new app.
	if i := strings.Index(s, "-via-"); i > 0 {
		s = strings.Trim(s[:i], "-._")
	}
	if len(s) > 64 {
		s = s[:64]
	}
	if ValidateAppID(AppID(s)) != nil {
		return DefaultApp
	}
	return AppID(s)
}

// App is a client owned by a user. A paused (inactive) app may not create
// memories; its existing memories stay readable.
type App struct {
	ID          AppID
	OrgID       OrgID
	UserID      UserID
	Description string
	Active      bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// MaxAppDescription bounds an app's free-text description.
const MaxAppDescription = 1024

// Validate checks an app before it is stored.
func (a App) Validate() error {
	if err := (Tenant{OrgID: a.OrgID, UserID: a.UserID}).Validate(); err != nil {
		return err
	}
	if err := ValidateAppID(a.ID); err != nil {
		return err
	}
	if len(a.Description) > MaxAppDescription {
		return Invalid("description", "must be at most %d bytes", MaxAppDescription)
	}
	return nil
}

// AccessKind says how an app came to read a memory.
type AccessKind string

// Access kinds recorded in the access log.
const (
	AccessGet    AccessKind = "get"
	AccessList   AccessKind = "list"
	AccessSearch AccessKind = "search"
)

// Access is one entry of the access log: app A read memory M at time T.
type Access struct {
	MemoryID   MemoryID
	AppID      AppID
	Kind       AccessKind
	AccessedAt time.Time
}
