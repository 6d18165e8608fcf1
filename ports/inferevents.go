package ports

import (
	"context"
	"time"

	"github.com/engram-memory/engram/domain"
)

// InferenceEvents is the durable queue of asynchronous inferences.
//
// EnqueueInference stores ev (pending, of tenant t; ev must belong to t or
// the call wraps domain.ErrInvalid). GetInference returns an event of t, or
// an error wrapping domain.ErrNotFound (another tenant's included).
// ClaimInference leases up to limit pending events of any tenant whose
// lease lapsed (oldest first), for lease, counting an attempt on each; a
// claimed event is not claimed again until its lease lapses, so a worker
// that died leaves its events to the next one (at least once). Several
// claimers never hold one event at once. FinishInference ends a pending
// event of t: done with its changes, or failed with the reason when
// failure is not empty; its request (the conversation) is cleared. Ending
// an event that is not pending wraps domain.ErrConflict; an unknown one
// domain.ErrNotFound.
type InferenceEvents interface {
	EnqueueInference(ctx context.Context, t domain.Tenant, ev domain.InferenceEvent) error
	GetInference(ctx context.Context, t domain.Tenant, id string) (domain.InferenceEvent, error)
	ClaimInference(ctx context.Context, limit int, lease time.Duration) ([]domain.InferenceEvent, error)
	FinishInference(ctx context.Context, t domain.Tenant, id string, changes []domain.InferenceChange, failure string) error
}
