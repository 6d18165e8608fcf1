package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/engram-memory/engram/domain"
)

// Submit queues an inference of in for the worker and returns its event,
// pending. It checks what can be checked now (scope, messages, app, a
// user under erasure), so a 202 is only given to work that can run. It
// fails with ErrNoModel when no LLM is configured.
func (s *Inference) Submit(ctx context.Context, p domain.Principal, in InferInput) (domain.InferenceEvent, error) {
	if s.d.LLM == nil {
		return domain.InferenceEvent{}, ErrNoModel
	}
	if s.d.Events == nil {
		panic("app: Inference.Submit needs InferenceDeps.Events")
	}
	if err := p.Require(domain.ScopeMemoriesWrite); err != nil {
		return domain.InferenceEvent{}, err
	}
	if err := domain.ValidateMessages(in.Messages); err != nil {
		return domain.InferenceEvent{}, err
	}
	for _, f := range []struct{ name, v string }{{"agent_id", in.AgentID}, {"run_id", in.RunID}} {
		if err := domain.ValidateScopeID(f.name, f.v); err != nil {
			return domain.InferenceEvent{}, err
		}
	}
	md, err := domain.NormalizeMetadata(in.Metadata)
	if err != nil {
		return domain.InferenceEvent{}, err
	}
	t := p.Tenant()
	if err := allowWrite(ctx, s.d.Memories.d.Guard, t); err != nil {
		return domain.InferenceEvent{}, err
	}
	appID := ActingApp(p, in.App)
	if err := s.d.Memories.activeApp(ctx, t, appID); err != nil {
		return domain.InferenceEvent{}, err
	}
	now := s.d.Memories.d.Clock.Now().UTC()
	ev := domain.InferenceEvent{ID: domain.NewID(now), OrgID: t.OrgID, UserID: t.UserID, App: appID, Status: domain.EventPending,
		Request:   domain.InferenceRequest{Messages: in.Messages, AgentID: in.AgentID, RunID: in.RunID, Metadata: md},
		CreatedAt: now, UpdatedAt: now}
	if err := s.d.Events.EnqueueInference(ctx, t, ev); err != nil {
		return domain.InferenceEvent{}, err
	}
	return ev, nil
}

// Event returns one of the caller's events.
func (s *Inference) Event(ctx context.Context, p domain.Principal, id string) (domain.InferenceEvent, error) {
	if err := p.Require(domain.ScopeMemoriesRead); err != nil {
		return domain.InferenceEvent{}, err
	}
	if s.d.Events == nil || !domain.ValidID(id) {
		return domain.InferenceEvent{}, domain.ErrNotFound
	}
	return s.d.Events.GetInference(ctx, p.Tenant(), id)
}

// Worker settings: an event whose model stays unavailable is tried again
// after its lease, up to maxEventAttempts times.
const (
	eventLease       = 5 * time.Minute
	eventBatch       = 8
	maxEventAttempts = 5
)

// RunWorker claims queued events and runs them until ctx ends, polling
// every idle interval when there is nothing to do. Events are durable: one
// claimed by a process that died is claimed again after its lease.
func (s *Inference) RunWorker(ctx context.Context, idle time.Duration, log *slog.Logger) {
	if s.d.Events == nil || s.d.LLM == nil {
		return
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for ctx.Err() == nil {
		n, err := s.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			log.WarnContext(ctx, "inference worker: claim failed", "err", err)
		}
		if n == 0 || err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(idle):
			}
		}
	}
}

// RunOnce claims one batch and runs it; it returns how many events it
// claimed.
func (s *Inference) RunOnce(ctx context.Context) (int, error) {
	evs, err := s.d.Events.ClaimInference(ctx, eventBatch, eventLease)
	if err != nil {
		return 0, err
	}
	for _, ev := range evs {
		s.runEvent(ctx, ev)
	}
	return len(evs), nil
}

func (s *Inference) runEvent(ctx context.Context, ev domain.InferenceEvent) {
	// The event's owner, acting through the app it was submitted with.
	p := domain.Principal{OrgID: ev.OrgID, UserID: ev.UserID, BoundApp: ev.App,
		Scopes: []domain.Scope{domain.ScopeMemoriesRead, domain.ScopeMemoriesWrite}}
	changes, err := s.Infer(ctx, p, InferInput{Messages: ev.Request.Messages, App: ev.App,
		AgentID: ev.Request.AgentID, RunID: ev.Request.RunID, Metadata: ev.Request.Metadata})
	failure := ""
	switch {
	case ctx.Err() != nil:
		return // shutting down: the lease lapses and another pass runs it
	case errors.Is(err, domain.ErrUnavailable) && ev.Attempts < maxEventAttempts:
		return // the model or store is down: tried again after the lease
	case err != nil:
		failure = err.Error()
	}
	if err := s.d.Events.FinishInference(ctx, ev.Tenant(), ev.ID, changes, failure); err != nil {
		s.d.Memories.d.Logger.WarnContext(ctx, "inference worker: finish event failed", "event", ev.ID, "err", err)
	}
}
