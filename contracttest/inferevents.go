package contracttest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// RunInferenceEvents runs the InferenceEvents contract (ports/inferevents.go)
// against stores made by newStore (isolated, cleaned with t.Cleanup).
func RunInferenceEvents(t *testing.T, newStore func(t *testing.T) ports.InferenceEvents) {
	event := func(tn domain.Tenant, text string) domain.InferenceEvent {
		return domain.InferenceEvent{ID: domain.NewID(time.Now()), OrgID: tn.OrgID, UserID: tn.UserID, App: domain.DefaultApp,
			Request: domain.InferenceRequest{Messages: []domain.Message{{Role: "user", Content: text}}, AgentID: "a1"}}
	}
	cases := map[string]func(t *testing.T, s ports.InferenceEvents){
		"Lifecycle/EnqueueClaimFinish": func(t *testing.T, s ports.InferenceEvents) {
			tn := newTenant(t)
			ev := event(tn, "I live in Berlin")
			require.NoError(t, s.EnqueueInference(ctxFor(t), tn, ev))
			got, err := s.GetInference(ctxFor(t), tn, ev.ID)
			require.NoError(t, err)
			require.Equal(t, domain.EventPending, got.Status)
			require.Equal(t, ev.Request, got.Request)
			claimed, err := s.ClaimInference(ctxFor(t), 10, time.Minute)
			require.NoError(t, err)
			require.Len(t, claimed, 1)
			require.Equal(t, ev.ID, claimed[0].ID)
			require.Equal(t, 1, claimed[0].Attempts)
			require.Equal(t, ev.Request, claimed[0].Request)
			again, err := s.ClaimInference(ctxFor(t), 10, time.Minute)
			require.NoError(t, err)
			require.Empty(t, again, "a leased event is not claimed twice")
			changes := []domain.InferenceChange{{Action: domain.InferAdd, MemoryID: "0190e0b2-0000-7000-8000-000000000001", Text: "Lives in Berlin"}}
			require.NoError(t, s.FinishInference(ctxFor(t), tn, ev.ID, changes, ""))
			got, err = s.GetInference(ctxFor(t), tn, ev.ID)
			require.NoError(t, err)
			require.Equal(t, domain.EventDone, got.Status)
			require.Equal(t, changes, got.Changes)
			require.Empty(t, got.Request.Messages, "the conversation is cleared once the event ends")
			require.ErrorIs(t, s.FinishInference(ctxFor(t), tn, ev.ID, nil, "late"), domain.ErrConflict)
		},
		"Lifecycle/LapsedLeaseIsClaimedAgainAndFailureKept": func(t *testing.T, s ports.InferenceEvents) {
			tn := newTenant(t)
			ev := event(tn, "x")
			require.NoError(t, s.EnqueueInference(ctxFor(t), tn, ev))
			first, err := s.ClaimInference(ctxFor(t), 10, time.Millisecond)
			require.NoError(t, err)
			require.Len(t, first, 1)
			time.Sleep(20 * time.Millisecond)
			second, err := s.ClaimInference(ctxFor(t), 10, time.Minute)
			require.NoError(t, err)
			require.Len(t, second, 1, "a worker that died leaves the event to the next")
			require.Equal(t, 2, second[0].Attempts)
			require.NoError(t, s.FinishInference(ctxFor(t), tn, ev.ID, nil, "the model's answer was unusable twice"))
			got, err := s.GetInference(ctxFor(t), tn, ev.ID)
			require.NoError(t, err)
			require.Equal(t, domain.EventFailed, got.Status)
			require.Equal(t, "the model's answer was unusable twice", got.Error)
			require.Empty(t, got.Changes)
		},
		"Tenancy/OtherTenantIsNotFound": func(t *testing.T, s ports.InferenceEvents) {
			tn := newTenant(t)
			ev := event(tn, "x")
			require.NoError(t, s.EnqueueInference(ctxFor(t), tn, ev))
			for _, other := range []domain.Tenant{newTenant(t), {OrgID: tn.OrgID, UserID: "someone-else"}} {
				_, err := s.GetInference(ctxFor(t), other, ev.ID)
				require.ErrorIs(t, err, domain.ErrNotFound)
				require.ErrorIs(t, s.FinishInference(ctxFor(t), other, ev.ID, nil, ""), domain.ErrNotFound)
			}
			require.ErrorIs(t, s.EnqueueInference(ctxFor(t), newTenant(t), event(tn, "y")), domain.ErrInvalid)
		},
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run(t, newStore(t))
		})
	}
}
