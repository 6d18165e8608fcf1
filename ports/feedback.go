package ports

import (
	"context"
	"time"

	"github.com/engram-memory/engram/domain"
)

// FeedbackStore keeps feedback events, append-only.
//
// Tenancy: every method takes the org; events of another org are never
// read, counted or deleted. Within the org, FeedbackFilter.UserID narrows
// to one user (the app layer sets it for everyone but operators).
//
// Append-only: there is no update. Rows leave only through PurgeFeedback
// (retention) and EraseUserFeedback (a user's right to erasure).
//
// Errors: invalid input wraps domain.ErrInvalid and writes nothing;
// backend failures wrap domain.ErrUnavailable.
type FeedbackStore interface {
	// AppendFeedback stores 1..domain.MaxFeedbackBatch events of org in one
	// transaction: all or nothing. Every event is validated and must carry
	// org, else domain.ErrInvalid. An event whose ID is already stored
	// wraps domain.ErrAlreadyExists and the batch is not written. Events
	// are visible to every later call once it returns.
	AppendFeedback(ctx context.Context, org domain.OrgID, events []domain.FeedbackEvent) error

	// ListFeedback returns events matching f, newest first (by CreatedAt,
	// then ID), at most limit (1..domain.MaxListLimit), after cursor (an
	// opaque string from a previous page; a malformed one is
	// domain.ErrInvalid). Pages are stable under concurrent appends.
	ListFeedback(ctx context.Context, org domain.OrgID, f domain.FeedbackFilter, limit int, cursor string) (domain.FeedbackPage, error)

	// FeedbackMetrics aggregates the events matching f: the outcome
	// distribution, the same per app and per variant (events without a
	// variant are left out of ByVariant), and the mean rating. Groups are
	// ordered by key; an outcome never seen is absent from its map.
	FeedbackMetrics(ctx context.Context, org domain.OrgID, f domain.FeedbackFilter) (domain.FeedbackMetrics, error)

	// PurgeFeedback deletes the org's events and query logs created before
	// before, and reports how many events it deleted. It is idempotent.
	PurgeFeedback(ctx context.Context, org domain.OrgID, before time.Time) (int64, error)

	// FeedbackOrgs lists, ordered, every org that has feedback or query
	// logs stored, so that retention can visit each one; it may list more
	// orgs (an org with nothing to purge costs one empty delete). It
	// reveals org ids only, never their data.
	FeedbackOrgs(ctx context.Context) ([]domain.OrgID, error)

	// EraseUserFeedback deletes every event and query log of the tenant's
	// user and reports how many events it deleted.
	EraseUserFeedback(ctx context.Context, t domain.Tenant) (int64, error)
}

// QueryLog records the searches users ran, so that feedback can be checked
// against them and attributed to a variant, and tune-fusion can replay them.
// Tenancy and errors are FeedbackStore's; another user's query is
// domain.ErrNotFound to GetQuery.
type QueryLog interface {
	// LogQuery stores one search of t. q must carry t's org and user (else
	// domain.ErrInvalid); an ID already logged wraps domain.ErrAlreadyExists.
	LogQuery(ctx context.Context, t domain.Tenant, q domain.QueryLog) error

	// GetQuery returns the user's logged search, or domain.ErrNotFound when
	// it does not exist, belongs to another user or org, or was purged.
	GetQuery(ctx context.Context, t domain.Tenant, id domain.QueryID) (domain.QueryLog, error)

	// ListQueries returns the org's logged searches created at or after
	// since, oldest first, at most limit (1..domain.MaxListLimit), after
	// cursor. Every user of the org is included: replaying them is an
	// operator's job.
	ListQueries(ctx context.Context, org domain.OrgID, since time.Time, limit int, cursor string) (logs []domain.QueryLog, next string, err error)

	// ExposureCounts counts the searches served under each variant of the
	// experiment, keyed by variant name; variants never served are absent.
	ExposureCounts(ctx context.Context, org domain.OrgID, id domain.ExperimentID) (map[string]int, error)
}
