package ports

import (
	"context"
	"time"

	"github.com/engram-memory/engram/domain"
)

// RetentionStore keeps each org's retention policy and finds what it, or a
// memory's own expiry, says must go (issue 16). Erasing what it finds is
// SubjectStore.EraseMemories' job, so that expiry erases exactly as an
// erasure does: rows, history and access-log rows, hard.
//
// Tenancy: every method but SweepOrgs acts on one org.
//
// Errors: an invalid policy wraps domain.ErrInvalid; backend failures wrap
// domain.ErrUnavailable.
type RetentionStore interface {
	// SweepOrgs lists every org that may hold something to sweep: any
	// org with memories, feedback, query logs or dashboard sessions.
	SweepOrgs(ctx context.Context) ([]domain.OrgID, error)

	// GetRetention returns org's policy; an org that never set one gets
	// the zero Retention (keep everything), not an error.
	GetRetention(ctx context.Context, org domain.OrgID) (domain.Retention, error)

	// SetRetention validates and replaces org's policy.
	SetRetention(ctx context.Context, org domain.OrgID, r domain.Retention) error

	// ExpiredMemories returns up to limit memories of org (any user, any
	// state, erased tombstones included) whose expiry is at or before now,
	// oldest expiry first.
	ExpiredMemories(ctx context.Context, org domain.OrgID, now time.Time, limit int) ([]MemoryRef, error)

	// PurgeRetained hard-deletes org's access-log rows accessed before
	// accessBefore, query logs created before queryBefore and feedback
	// events created before feedbackBefore; a zero time skips that table.
	// Counts are keyed domain.StoreAccessLog, StoreQueryLog, StoreFeedback.
	PurgeRetained(ctx context.Context, org domain.OrgID, accessBefore, queryBefore, feedbackBefore time.Time) (map[string]int64, error)

	// PurgeExpiredUISessions hard-deletes org's dashboard sessions
	// (ports.UISessionStore) that expired at or before now, of every user,
	// and returns how many it deleted (counted as domain.StoreUISessions).
	// PutUISession deletes only the signing-in user's expired sessions, so
	// without this a user who never signs in again would keep their sealed
	// tokens forever. It runs under org's tenancy like every other method:
	// another org's sessions, and org's unexpired ones, stay.
	PurgeExpiredUISessions(ctx context.Context, org domain.OrgID, now time.Time) (int64, error)
}
