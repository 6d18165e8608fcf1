package domain

import (
	"slices"
	"strings"
)

// OrgID identifies a tenant organisation; it comes only from a verified token.
type OrgID string

// UserID identifies a user inside an organisation (the token's subject).
type UserID string

// Tenant is the pair every store call is scoped by. Data of another org is
// invisible (ErrNotFound); data of another user of the same org is too.
type Tenant struct {
	OrgID  OrgID
	UserID UserID
}

// validTenantPart is ^[A-Za-z0-9][A-Za-z0-9._:@|+-]{0,254}$ written out:
// it runs twice for every memory written, and a regexp match cost more than
// the rest of the validation together.
func validTenantPart(s string) bool {
	if len(s) == 0 || len(s) > 255 || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case isAlnum(c), c == '.', c == '_', c == ':', c == '@', c == '|', c == '+', c == '-':
		default:
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// Validate refuses an empty or malformed org or user.
func (t Tenant) Validate() error {
	if !validTenantPart(string(t.OrgID)) {
		return Invalid("org_id", "must be 1-255 characters of letters, digits and ._:@|+-")
	}
	if !validTenantPart(string(t.UserID)) {
		return Invalid("user_id", "must be 1-255 characters of letters, digits and ._:@|+-")
	}
	return nil
}

// Scope is an OAuth scope a route or tool requires.
type Scope string

// The scopes Engram understands. Each route and MCP tool declares one.
const (
	ScopeMemoriesRead     Scope = "memories:read"
	ScopeMemoriesWrite    Scope = "memories:write"
	ScopeAppsRead         Scope = "apps:read"
	ScopeAppsWrite        Scope = "apps:write"
	ScopeStatsRead        Scope = "stats:read"
	ScopeSessionsRead     Scope = "sessions:read"
	ScopeSessionsWrite    Scope = "sessions:write"
	ScopeFeedbackRead     Scope = "feedback:read"
	ScopeFeedbackWrite    Scope = "feedback:write"
	ScopeExperimentsRead  Scope = "experiments:read"
	ScopeExperimentsWrite Scope = "experiments:write"
	// ScopeBackupRead exports the caller's own data as an archive;
	// ScopeBackupWrite imports one into it (docs/archive.md). Neither is a
	// default: a token must be granted them.
	ScopeBackupRead  Scope = "backup:read"
	ScopeBackupWrite Scope = "backup:write"
	// ScopeKeysWrite lets a caller issue, list and revoke its own user keys.
	ScopeKeysWrite Scope = "keys:write"
	// ScopeKeysProject also lets it issue and revoke project keys, which
	// act for every user of the org: an operator scope.
	ScopeKeysProject Scope = "keys:project"
	// ScopeEntitiesRead lists and reads entities; ScopeEntitiesWrite
	// renames, merges and deletes them; ScopeGraphRead walks the graph
	// (docs/entities.md).
	ScopeEntitiesRead  Scope = "entities:read"
	ScopeEntitiesWrite Scope = "entities:write"
	ScopeGraphRead     Scope = "graph:read"
)

// DefaultUserScopes are what a locally minted token gets when none are asked
// for: everything a user needs for their own data, no operator scopes.
var DefaultUserScopes = []Scope{
	ScopeMemoriesRead, ScopeMemoriesWrite, ScopeAppsRead, ScopeAppsWrite,
	ScopeStatsRead, ScopeSessionsRead, ScopeSessionsWrite, ScopeFeedbackRead, ScopeFeedbackWrite,
	ScopeEntitiesRead, ScopeEntitiesWrite, ScopeGraphRead,
}

// LocalOwnerScopes are the zero-config local token's: the one user of a
// local instance owns all of its data, so besides DefaultUserScopes it may
// take its data out and back in (backup:read, backup:write) and issue its
// own API keys (keys:write). Operator scopes (project keys, privacy
// administration, experiments) still need a minted token.
var LocalOwnerScopes = append(slices.Clone(DefaultUserScopes), ScopeBackupRead, ScopeBackupWrite, ScopeKeysWrite)

// ParseScopes splits an OAuth space-separated scope string.
func ParseScopes(s string) []Scope {
	fields := strings.Fields(s)
	out := make([]Scope, 0, len(fields))
	for _, f := range fields {
		out = append(out, Scope(f))
	}
	return out
}

// Principal is the verified caller: who, for which org, allowed to do what,
// through which client, and the key the token is bound to (if any).
type Principal struct {
	OrgID    OrgID
	UserID   UserID
	Scopes   []Scope
	ClientID string // OAuth client_id; the default app for writes
	TokenID  string // jti of the access token, for logs and revocation
	KeyJKT   string // RFC 7638 thumbprint from cnf.jkt when DPoP-bound
	// KeyID is set when the caller presented an API key.
	KeyID string
	// ProjectKey marks a project key's principal: it has no user until
	// ActAs names one from the request.
	ProjectKey bool
	// BoundApp, when set, is the app every write is filed under, whatever
	// the request names (an API key bound to an app).
	BoundApp AppID
}

// ActAs returns the principal acting for user, a user_id the request named.
// Only a project key may name any user (of its own org: the org never
// comes from the request); every other credential may only name itself, and
// naming another user is ErrForbidden. An empty user keeps the principal.
func (p Principal) ActAs(user UserID) (Principal, error) {
	switch {
	case p.ProjectKey && user == "":
		return Principal{}, Invalid("user_id", "is required with a project key")
	case p.ProjectKey:
		if err := (Tenant{OrgID: p.OrgID, UserID: user}).Validate(); err != nil {
			return Principal{}, err
		}
		p.UserID, p.ProjectKey = user, false
		return p, nil
	case user == "" || user == p.UserID:
		return p, nil
	}
	return Principal{}, &ForbiddenError{Reason: "user_id names another user than the credential's"}
}

// Tenant is the principal's data partition.
func (p Principal) Tenant() Tenant { return Tenant{OrgID: p.OrgID, UserID: p.UserID} }

// HasScope reports whether the principal was granted s.
func (p Principal) HasScope(s Scope) bool { return slices.Contains(p.Scopes, s) }

// Require returns a *ForbiddenError naming s when the principal lacks it.
func (p Principal) Require(s Scope) error {
	if p.HasScope(s) {
		return nil
	}
	return &ForbiddenError{MissingScope: s}
}
