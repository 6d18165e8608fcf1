package ports

import (
	"context"

	"github.com/engram-memory/engram/domain"
)

// AuditLog is the append-only audit trail of exports and erasures.
//
// Tenancy: events are the org's; ListAudit never returns another org's.
// Nothing deletes events: erasure of a user or of a whole org leaves them.
//
// Errors: an event without id, org, action or time wraps domain.ErrInvalid;
// an id already stored wraps domain.ErrAlreadyExists; backend failures wrap
// domain.ErrUnavailable.
type AuditLog interface {
	// AppendAudit stores one event, visible to ListAudit once it returns.
	AppendAudit(ctx context.Context, e domain.AuditEvent) error

	// ListAudit returns the org's events newest first, at most limit
	// (1..domain.MaxListLimit), after cursor (from a previous page; a
	// malformed one is domain.ErrInvalid), and the cursor of the next page
	// ("" at the end).
	ListAudit(ctx context.Context, org domain.OrgID, limit int, cursor string) ([]domain.AuditEvent, string, error)
}

// CheckAuditEvent validates what every AuditLog refuses alike.
func CheckAuditEvent(e domain.AuditEvent) error {
	switch {
	case !domain.ValidID(string(e.ID)):
		return domain.Invalid("id", "must be a UUID")
	case e.OrgID == "":
		return domain.Invalid("org_id", "must not be empty")
	case e.Action == "":
		return domain.Invalid("action", "must not be empty")
	case e.At.IsZero():
		return domain.Invalid("at", "must be set")
	}
	return nil
}
