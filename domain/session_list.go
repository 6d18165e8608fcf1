package domain

import "time"

// SessionSummary is one live session in a listing of a user's sessions.
type SessionSummary struct {
	ID        SessionID `json:"id"`
	Events    int       `json:"events"`
	ExpiresAt time.Time `json:"expires_at"` // the TTL after its last write
}

// DefaultSessionList and MaxSessionList bound GET /api/v1/sessions.
const (
	DefaultSessionList = 50
	MaxSessionList     = 200
)
