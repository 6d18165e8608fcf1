package ports

import (
	"context"
	"strconv"

	"github.com/engram-memory/engram/domain"
)

// ErasureJobs keeps erasure jobs in the system of record, so that a job
// survives a crash and every server of a fleet sees it.
//
// Tenancy: GetErasure answers domain.ErrNotFound for a job of another org.
// UnfinishedErasures lists jobs of every org (the worker's view); it reveals
// nothing to a caller, since only app code calls it.
//
// Errors: backend failures wrap domain.ErrUnavailable.
type ErasureJobs interface {
	// StartErasure stores e as a new pending job, unless an unfinished
	// (pending or running) job of the same org, OrgWide flag and
	// SubjectHash exists: then nothing is written and that job is
	// returned with joined=true. Of concurrent starts for one subject
	// exactly one creates the job.
	StartErasure(ctx context.Context, e domain.Erasure) (job domain.Erasure, joined bool, err error)

	// GetErasure returns the job with its counts.
	GetErasure(ctx context.Context, org domain.OrgID, id domain.ErasureID) (domain.Erasure, error)

	// SaveErasure writes e's Status, UserID, Attempts, LastError, UpdatedAt
	// and FinishedAt (never its counts). An unknown job wraps
	// domain.ErrNotFound.
	SaveErasure(ctx context.Context, e domain.Erasure) error

	// AddErasureCounts adds counts to the job's per-store counts
	// atomically, so that two servers running one job never lose a count.
	AddErasureCounts(ctx context.Context, org domain.OrgID, id domain.ErasureID, counts map[string]int64) error

	// UnfinishedErasures lists pending and running jobs of every org,
	// oldest first, at most limit.
	UnfinishedErasures(ctx context.Context, limit int) ([]domain.Erasure, error)
}

// SubjectStore lets erasure reach a subject's rows in the system of
// record. Deletes are hard (the rows are gone, not blanked) and
// idempotent: deleting what is already gone counts zero.
//
// Tenancy: only rows of the subject (one user, or every user of the org
// when the subject is org-wide) are read or deleted.
//
// Errors: an invalid subject wraps domain.ErrInvalid; backend failures
// wrap domain.ErrUnavailable.
type SubjectStore interface {
	// SubjectMemories returns up to limit of the subject's memories (in
	// any state, erased tombstones included), by id.
	SubjectMemories(ctx context.Context, s domain.Subject, limit int) ([]MemoryRef, error)

	// EraseMemories deletes, in one transaction, those of ids that belong
	// to the subject together with their history and access-log rows, and
	// reports the rows deleted under domain.StoreMemories, StoreHistory
	// and StoreAccessLog.
	EraseMemories(ctx context.Context, s domain.Subject, ids []domain.MemoryID) (map[string]int64, error)

	// EraseSubjectData deletes the rest of the subject's rows: history and
	// access-log rows left without a memory, feedback events, query logs,
	// experiment assignments and apps; for an org-wide subject also the
	// org's experiments and their history. Counts are keyed by
	// domain.Store* names.
	EraseSubjectData(ctx context.Context, s domain.Subject) (map[string]int64, error)
}

// SessionEraser deletes every conversation session of a subject and
// reports how many sessions it deleted. Idempotent; backend failures wrap
// domain.ErrUnavailable.
type SessionEraser interface {
	EraseSessions(ctx context.Context, s domain.Subject) (int64, error)
}

// SessionLister names every live session of a tenant, so that a subject
// access export can include them. The order is unspecified. Backend
// failures wrap domain.ErrUnavailable.
type SessionLister interface {
	SubjectSessions(ctx context.Context, t domain.Tenant) ([]domain.SessionID, error)
}

// IdempotencyEraser deletes every idempotency record whose scope belongs
// to a subject (IdempotencyScope) and reports how many it deleted.
// Idempotent; backend failures wrap domain.ErrUnavailable.
type IdempotencyEraser interface {
	EraseIdempotency(ctx context.Context, s domain.Subject) (int64, error)
}

// IdempotencyScope is the IdempotencyStore scope of a principal's
// requests: the org's length first, so that no org and user pair can
// produce another's scope.
func IdempotencyScope(t domain.Tenant) string {
	return IdempotencyOrgScope(t.OrgID) + string(t.UserID)
}

// IdempotencyOrgScope is the prefix every scope of org's users starts with.
func IdempotencyOrgScope(org domain.OrgID) string {
	return strconv.Itoa(len(org)) + ":" + string(org) + "/"
}

// SubjectOwnsScope reports whether an idempotency scope belongs to s.
func SubjectOwnsScope(s domain.Subject, scope string) bool {
	if s.OrgWide() {
		p := IdempotencyOrgScope(s.OrgID)
		return len(scope) >= len(p) && scope[:len(p)] == p
	}
	return scope == IdempotencyScope(s.Tenant())
}
