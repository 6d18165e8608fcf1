package ports

import (
	"context"

	"github.com/engram-memory/engram/domain"
)

// SessionStore keeps short-term conversational memory: the recent events of
// each session of each user.
//
// Tenancy: a session is identified by (tenant, session id). The same session
// id of another org, or of another user of the same org, is another session:
// reads see it empty, lookups of its events answer domain.ErrNotFound, End
// answers domain.ErrNotFound and nothing of it changes.
//
// Lifetime: a session exists from its first Append. Every Append refreshes
// its time-to-live (the adapter's TTL, domain.DefaultSessionTTL unless
// configured); when the TTL passes without a write, the whole session is gone,
// as if ended. A session keeps at most the adapter's per-session cap of events
// (domain.MaxSessionEvents by default), dropping the oldest first.
//
// Ordering: events are ordered by CreatedAt, then by ID; "newest first" means
// descending in that order.
//
// Visibility and concurrency: a write is visible to every later call once it
// returns. Concurrent Appends to one session all land; none is lost.
//
// Failures of the backend wrap domain.ErrUnavailable; callers must not treat
// them as an empty session.
type SessionStore interface {
	// Append validates e (domain.SessionEvent.Normalize; invalid answers
	// domain.ErrInvalid, nothing written), stores it and refreshes the TTL.
	// It returns the event as stored. An event whose ID is already in the
	// session wraps domain.ErrAlreadyExists and changes nothing.
	Append(ctx context.Context, t domain.Tenant, session domain.SessionID, e domain.SessionEvent) (domain.SessionEvent, error)

	// Recent returns at most n events, newest first, each with Score set to
	// its recency decay relative to now (domain.RecencyScore with the
	// adapter's half-life). An unknown or expired session gives an empty
	// slice, not an error. n must be 1..domain.MaxRecentEvents.
	Recent(ctx context.Context, t domain.Tenant, session domain.SessionID, n int) ([]domain.SessionEvent, error)

	// Events returns the events with these ids, in the order asked. If any id
	// is not in the session the error wraps domain.ErrNotFound and names it.
	Events(ctx context.Context, t domain.Tenant, session domain.SessionID, ids []string) ([]domain.SessionEvent, error)

	// FindMention returns the most recent event whose text contains term,
	// ignoring case as domain.MentionMatches does (Unicode-aware), or an error
	// wrapping domain.ErrNotFound when none does. An empty term is
	// domain.ErrInvalid.
	FindMention(ctx context.Context, t domain.Tenant, session domain.SessionID, term string) (domain.SessionEvent, error)

	// End deletes the session and all its events at once. A session that
	// does not exist (never written, expired, already ended, another
	// tenant's) wraps domain.ErrNotFound.
	End(ctx context.Context, t domain.Tenant, session domain.SessionID) error

	// List returns t's live sessions, the most recently written first (the
	// latest ExpiresAt first), at most limit (1..domain.MaxSessionList).
	// Another tenant's sessions never appear; a user with none gets an
	// empty slice.
	List(ctx context.Context, t domain.Tenant, limit int) ([]domain.SessionSummary, error)
}
