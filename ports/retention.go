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
	// org with memories, feedback, query logs, dashboard sessions or
	// OAuth codes and refresh tokens.
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

	// PurgeExpiredOAuthTokens hard-deletes org's authorization codes that
	// expired before codesBefore and refresh tokens that expired before
	// refreshBefore (ports.OAuthStore), used or not, of every grant, and
	// returns how many it deleted (counted as domain.StoreOAuthTokens).
	// The sweeper passes now minus domain.OAuthCodeGrace (1 h) and minus
	// domain.OAuthRefreshGrace (24 h). Nothing else deletes them but an
	// erasure, and refresh rotation adds a row at every refresh.
	//
	// Why the grace keeps reuse detection correct: UseToken decides reuse
	// on the row alone, before any expiry check: a used token presented
	// again revokes its grant as long as its row exists, expired or not. A
	// token can be spent only until its ExpiresAt, and its row stays a
	// grace beyond that, so a replay within the token's lifetime (and for
	// the grace after, covering clocks of several engramd processes and a
	// client retrying late) still ends the family. Only a replay later
	// than that, of a token nobody could spend any more, finds no row and
	// is refused as unknown (domain.ErrNotFound) without revoking the
	// grant. Grants themselves stay (revoked ones for the audit of
	// connected clients). It runs under org's tenancy: another org's
	// tokens, and org's live ones, stay.
	PurgeExpiredOAuthTokens(ctx context.Context, org domain.OrgID, codesBefore, refreshBefore time.Time) (int64, error)
}
