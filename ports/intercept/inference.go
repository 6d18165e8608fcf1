package intercept

import (
	"context"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// InferenceStore is the store's inference side: decisions and events.
type InferenceStore interface {
	ports.InferenceWriter
	ports.InferenceEvents
}

// WrapInference decorates the store's inference side; reads are retried,
// writes are not.
func WrapInference(next InferenceStore, dep string, ic Interceptor) InferenceStore {
	if next == nil {
		return nil
	}
	return inference{base{dep, ic}, next}
}

type inference struct {
	base
	next InferenceStore
}

func (x inference) ApplyInference(ctx context.Context, t domain.Tenant, actor domain.AppID, ops []domain.InferenceOp) (cs []domain.InferenceChange, err error) {
	err = x.do(ctx, "apply_inference", write, func(ctx context.Context) (e error) { cs, e = x.next.ApplyInference(ctx, t, actor, ops); return })
	return cs, err
}

func (x inference) Successor(ctx context.Context, t domain.Tenant, id domain.MemoryID) (s domain.MemoryID, err error) {
	err = x.do(ctx, "successor", read, func(ctx context.Context) (e error) { s, e = x.next.Successor(ctx, t, id); return })
	return s, err
}

func (x inference) EnqueueInference(ctx context.Context, t domain.Tenant, ev domain.InferenceEvent) error {
	return x.do(ctx, "enqueue_inference", write, func(ctx context.Context) error { return x.next.EnqueueInference(ctx, t, ev) })
}

func (x inference) GetInference(ctx context.Context, t domain.Tenant, id string) (ev domain.InferenceEvent, err error) {
	err = x.do(ctx, "get_inference", read, func(ctx context.Context) (e error) { ev, e = x.next.GetInference(ctx, t, id); return })
	return ev, err
}

func (x inference) ClaimInference(ctx context.Context, limit int, lease time.Duration) (evs []domain.InferenceEvent, err error) {
	err = x.do(ctx, "claim_inference", write, func(ctx context.Context) (e error) { evs, e = x.next.ClaimInference(ctx, limit, lease); return })
	return evs, err
}

func (x inference) FinishInference(ctx context.Context, t domain.Tenant, id string, changes []domain.InferenceChange, failure string) error {
	return x.do(ctx, "finish_inference", write, func(ctx context.Context) error { return x.next.FinishInference(ctx, t, id, changes, failure) })
}
