package app

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/engram-memory/engram/domain"
)

// outcomeCheck bounds the look-up a write with an unknown outcome makes.
const outcomeCheck = 2 * time.Second

// outcomeUnknown reports whether a write's error leaves its outcome
// unknown: the caller's deadline or the connection ended, possibly after
// COMMIT was sent, so the store may have committed without the answer
// reaching us. A refusal (not found, conflict, invalid) is an answer.
func outcomeUnknown(err error) bool {
	return errors.Is(err, domain.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// lookAfter runs look, on its own short deadline (the request's may be
// over), after a write failed with an unknown outcome, and reports what it
// found; it gives up (false) when the store does not answer in time.
// Found, the write succeeded and is answered as such instead of with a 503
// that hides it.
func lookAfter[T any](ctx context.Context, err error, look func(context.Context) (T, bool)) (T, bool) {
	var zero T
	if !outcomeUnknown(err) {
		return zero, false
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), outcomeCheck)
	defer cancel()
	type found struct {
		v  T
		ok bool
	}
	ch := make(chan found, 1)
	go func() {
		v, ok := look(lctx)
		ch <- found{v, ok}
	}()
	select {
	case f := <-ch:
		return f.v, f.ok
	case <-lctx.Done():
		return zero, false
	}
}

// OutcomeObserver is told about a write whose outcome stayed unknown: it
// failed with an outage or a deadline and the look-up after it did not find
// it in effect, so the store may still commit it with nobody told. The
// Indexer implements it, to repair that org at its next pass.
type OutcomeObserver interface {
	OutcomeUnknown(t domain.Tenant)
}

// unknownOutcome tells Outcomes when err leaves a write of t unknown.
func (s *MemoryService) unknownOutcome(t domain.Tenant, err error) {
	if s.d.Outcomes != nil && outcomeUnknown(err) {
		s.d.Outcomes.OutcomeUnknown(t)
	}
}

// committedAnyway looks for the memory a failed Create was writing.
func (s *MemoryService) committedAnyway(ctx context.Context, t domain.Tenant, id domain.MemoryID, err error) (domain.Memory, bool) {
	return lookAfter(ctx, err, func(ctx context.Context) (domain.Memory, bool) {
		m, err := s.d.Memories.Get(ctx, t, id)
		return m, err == nil
	})
}

// updatedAnyway looks at the memory a failed Update was changing: when it
// holds what the update asked for (fn applied to it changes nothing) and is
// not deleted, the update is in effect and is answered with the memory.
func (s *MemoryService) updatedAnyway(ctx context.Context, t domain.Tenant, id domain.MemoryID, fn func(*domain.Memory) error, err error) (domain.Memory, bool) {
	return lookAfter(ctx, err, func(ctx context.Context) (domain.Memory, bool) {
		m, err := s.d.Memories.Get(ctx, t, id)
		if err != nil || m.State == domain.StateDeleted {
			return domain.Memory{}, false
		}
		want := m
		want.Metadata = cloneMetadata(m.Metadata)
		want.Categories = append([]string(nil), m.Categories...)
		if fn(&want) != nil {
			return domain.Memory{}, false
		}
		return m, want.Text == m.Text && sameJSON(want.Metadata, m.Metadata) && sameJSON(want.Categories, m.Categories)
	})
}

// inStateAnyway looks at the memories a failed SetState or Delete was
// moving: when every one is in state, the change (all or nothing) is in
// effect and is answered with the memories.
func (s *MemoryService) inStateAnyway(ctx context.Context, t domain.Tenant, ids []domain.MemoryID, state domain.State, err error) ([]domain.Memory, bool) {
	return lookAfter(ctx, err, func(ctx context.Context) ([]domain.Memory, bool) {
		ms := make([]domain.Memory, 0, len(ids))
		for _, id := range ids {
			m, err := s.d.Memories.Get(ctx, t, id)
			if err != nil || m.State != state {
				return nil, false
			}
			ms = append(ms, m)
		}
		return ms, true
	})
}

func cloneMetadata(md domain.Metadata) domain.Metadata {
	if md == nil {
		return nil
	}
	out := make(domain.Metadata, len(md))
	for k, v := range md {
		out[k] = v
	}
	return out
}

// sameJSON compares as the stores keep values: as JSON (map keys sorted,
// numbers by their text), nil and empty alike.
func sameJSON[T any](a, b T) bool {
	ja, erra := json.Marshal(a)
	jb, errb := json.Marshal(b)
	empty := func(j []byte) bool { s := string(j); return s == "null" || s == "{}" || s == "[]" }
	return erra == nil && errb == nil && (string(ja) == string(jb) || empty(ja) && empty(jb))
}
