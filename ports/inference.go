package ports

import (
	"context"

	"github.com/engram-memory/engram/domain"
)

// InferenceWriter applies what one inference decided.
//
// ApplyInference runs every op in one transaction of tenant t: all of them
// or none. Add inserts op.Memory with an add history entry (an exact
// duplicate of an active memory of t is not inserted: the change reports
// that memory with action none). Update rewrites op.Target's text to
// op.Text with an update history entry. Supersede inserts op.Memory and
// soft-deletes op.Target (a delete history entry; its history is kept),
// recording op.Memory as its successor (Successor reports it). None writes
// nothing. A target that does not exist for t (another tenant's included),
// is erased or already deleted fails the whole call with an error wrapping
// domain.ErrNotFound and writes nothing; a new memory not of t or invalid
// wraps domain.ErrInvalid. The changes are reported in op order.
//
// Successor returns the memory that superseded id, or "" when none did;
// unknown ids (other tenants' included) answer "". Erasing either memory
// removes the link.
type InferenceWriter interface {
	ApplyInference(ctx context.Context, t domain.Tenant, actor domain.AppID, ops []domain.InferenceOp) ([]domain.InferenceChange, error)
	Successor(ctx context.Context, t domain.Tenant, id domain.MemoryID) (domain.MemoryID, error)
}
