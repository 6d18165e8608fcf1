package domain

import (
	"math"
	"regexp"
	"strings"
	"time"
)

// SessionID names one conversation of a user. Clients choose it, so it is a
// slug: it appears in URLs and in backend keys.
type SessionID string

var sessionPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ParseSessionID validates a session id taken from a request.
func ParseSessionID(s string) (SessionID, error) {
	if !sessionPattern.MatchString(s) {
		return "", Invalid("session_id", "must be 1-128 characters of letters, digits and ._- starting with a letter or digit")
	}
	return SessionID(s), nil
}

// Role says who produced a session event, as in chat transcripts.
type Role string

// The roles of a session event.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleSystem    Role = "system"
	RoleTool      Role = "tool"
)

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	switch Role(s) {
	case RoleUser, RoleAssistant, RoleSystem, RoleTool:
		return Role(s), nil
	}
	return "", Invalid("role", "must be one of user, assistant, system, tool")
}

// Session bounds. A session is short-term memory: it expires DefaultSessionTTL
// after its last write and keeps at most MaxSessionEvents events (the oldest
// go first), so one chatty agent cannot grow a backend without limit.
const (
	DefaultSessionTTL      = 24 * time.Hour
	DefaultRecencyHalfLife = 30 * time.Minute
	MaxSessionEvents       = 10_000
	DefaultRecentEvents    = 20
	MaxRecentEvents        = 1_000
)

// SessionEvent is one turn of a conversation: a message, a tool result, a
// system note. ID is a UUIDv7, so ids of one session sort by time.
type SessionEvent struct {
	ID        string
	Role      Role
	Text      string
	Metadata  Metadata
	CreatedAt time.Time
	// Score is set by reads that rank by recency (SessionStore.Recent): 1 for
	// an event of this instant, halving every half-life. Zero elsewhere.
	Score float64
}

// NewSessionEvent validates its inputs and returns an event with a fresh id.
func NewSessionEvent(role Role, text string, md Metadata, now time.Time) (SessionEvent, error) {
	e := SessionEvent{ID: NewID(now), Role: role, Text: text, Metadata: md, CreatedAt: now}
	if err := e.Normalize(); err != nil {
		return SessionEvent{}, err
	}
	return e, nil
}

// Normalize validates every field and canonicalises metadata and time. The
// time is truncated to microseconds because that is what every session
// backend keeps (Valkey scores are float64 microseconds, exact below 2^53).
func (e *SessionEvent) Normalize() error {
	if !ValidID(e.ID) {
		return Invalid("id", "must be a lower-case UUID")
	}
	if _, err := ParseRole(string(e.Role)); err != nil {
		return err
	}
	if err := ValidateText(e.Text); err != nil {
		return err
	}
	md, err := NormalizeMetadata(e.Metadata)
	if err != nil {
		return err
	}
	if e.CreatedAt.IsZero() {
		return Invalid("created_at", "must be set")
	}
	e.Metadata = md
	e.CreatedAt = e.CreatedAt.UTC().Truncate(time.Microsecond)
	e.Score = 0
	return nil
}

// RecencyScore is exp(-ln2 * age / halfLife): 1 now, 0.5 after one half-life.
// A future event (clock skew) scores 1; a non-positive half-life scores every
// event 1, which turns decay off.
func RecencyScore(age, halfLife time.Duration) float64 {
	if age <= 0 || halfLife <= 0 {
		return 1
	}
	return math.Exp(-math.Ln2 * float64(age) / float64(halfLife))
}

// ScoreRecency sets each event's Score relative to now.
func ScoreRecency(events []SessionEvent, now time.Time, halfLife time.Duration) {
	for i := range events {
		events[i].Score = RecencyScore(now.Sub(events[i].CreatedAt), halfLife)
	}
}

// MentionMatches reports whether text mentions term, ignoring case. Every
// SessionStore uses it so that FindMention agrees across backends.
func MentionMatches(text, term string) bool {
	return strings.Contains(strings.ToLower(text), strings.ToLower(term))
}
