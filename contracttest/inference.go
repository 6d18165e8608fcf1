package contracttest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// InferenceStore is a memory store that applies inference decisions.
type InferenceStore interface {
	ports.MemoryStore
	ports.InferenceWriter
}

// RunInferenceWriter runs the InferenceWriter contract (ports/inference.go)
// against stores made by newStore (isolated, cleaned with t.Cleanup).
//
// Pinned down here: a supersession's old memory is soft-deleted with a
// delete history entry after its add; Successor of an erased successor is
// "".
func RunInferenceWriter(t *testing.T, newStore func(t *testing.T) InferenceStore) {
	const app = domain.DefaultApp
	cases := map[string]func(t *testing.T, s InferenceStore){
		"Apply/SupersedeKeepsHistoryAndPointsToSuccessor": func(t *testing.T, s InferenceStore) {
			tn := newTenant(t)
			old := mustCreate(t, s, memOf(t, tn, app, "Lives in Berlin"))
			succ := memOf(t, tn, app, "Lives in Lisbon")
			tea := memOf(t, tn, app, "Likes tea")
			got, err := s.ApplyInference(ctxFor(t), tn, app, []domain.InferenceOp{
				{Action: domain.InferSupersede, Target: old.ID, Memory: succ},
				{Action: domain.InferAdd, Memory: tea},
				{Action: domain.InferNone, Target: old.ID},
			})
			require.NoError(t, err)
			require.Equal(t, []domain.InferenceChange{
				{Action: domain.InferSupersede, MemoryID: succ.ID, Previous: old.ID, Text: "Lives in Lisbon"},
				{Action: domain.InferAdd, MemoryID: tea.ID, Text: "Likes tea"},
				{Action: domain.InferNone, MemoryID: old.ID},
			}, got)
			was, err := s.Get(ctxFor(t), tn, old.ID)
			require.NoError(t, err)
			require.Equal(t, domain.StateDeleted, was.State)
			require.Equal(t, "Lives in Berlin", was.Text, "the superseded memory keeps its text")
			h, err := s.History(ctxFor(t), tn, old.ID)
			require.NoError(t, err)
			require.Len(t, h, 2)
			require.Equal(t, domain.ChangeAdd, h[0].Kind)
			require.Equal(t, domain.ChangeDelete, h[1].Kind)
			next, err := s.Successor(ctxFor(t), tn, old.ID)
			require.NoError(t, err)
			require.Equal(t, succ.ID, next)
			active := listAll(t, s, tn, domain.ListQuery{})
			require.ElementsMatch(t, []domain.MemoryID{succ.ID, tea.ID}, idsOf(active))
			none, err := s.Successor(ctxFor(t), tn, succ.ID)
			require.NoError(t, err)
			require.Empty(t, none)
		},
		"Apply/SupersedeClosesValidity": func(t *testing.T, s InferenceStore) {
			tn := newTenant(t)
			old := memOf(t, tn, app, "Works at Acme")
			old.ValidFrom = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
			old = mustCreate(t, s, old)
			closed := memOf(t, tn, app, "Drives a Fiat")
			closed.ValidTo = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
			closed = mustCreate(t, s, closed)
			said := time.Now().UTC().Add(-time.Hour).Truncate(time.Microsecond)
			succ, succ2 := memOf(t, tn, app, "Works at Globex"), memOf(t, tn, app, "Drives a Volvo")
			succ.ObservedAt, succ2.ObservedAt = said, said
			_, err := s.ApplyInference(ctxFor(t), tn, app, []domain.InferenceOp{
				{Action: domain.InferSupersede, Target: old.ID, Memory: succ},
				{Action: domain.InferSupersede, Target: closed.ID, Memory: succ2},
			})
			require.NoError(t, err)
			was, err := s.Get(ctxFor(t), tn, old.ID)
			require.NoError(t, err)
			requireSameTime(t, said, was.ValidTo, "the old fact held until its successor was said")
			requireSameTime(t, old.ValidFrom, was.ValidFrom, "ValidFrom")
			was, err = s.Get(ctxFor(t), tn, closed.ID)
			require.NoError(t, err)
			requireSameTime(t, closed.ValidTo, was.ValidTo, "a validity that closed earlier stays")
			now, err := s.Get(ctxFor(t), tn, succ.ID)
			require.NoError(t, err)
			requireSameTime(t, said, now.ObservedAt, "ObservedAt")
			require.True(t, now.ValidTo.IsZero(), "the successor's validity is open")
		},
		"Apply/UpdateRecordsHistory": func(t *testing.T, s InferenceStore) {
			tn := newTenant(t)
			m := mustCreate(t, s, memOf(t, tn, app, "Has a dog"))
			got, err := s.ApplyInference(ctxFor(t), tn, app, []domain.InferenceOp{{Action: domain.InferUpdate, Target: m.ID, Text: "Has a dog named Rex"}})
			require.NoError(t, err)
			require.Equal(t, []domain.InferenceChange{{Action: domain.InferUpdate, MemoryID: m.ID, Text: "Has a dog named Rex"}}, got)
			now, err := s.Get(ctxFor(t), tn, m.ID)
			require.NoError(t, err)
			require.Equal(t, "Has a dog named Rex", now.Text)
			h, err := s.History(ctxFor(t), tn, m.ID)
			require.NoError(t, err)
			require.Len(t, h, 2)
			require.Equal(t, domain.ChangeUpdate, h[1].Kind)
			require.Equal(t, "Has a dog", h[1].Old.Text)
		},
		"Apply/DuplicateAddIsNone": func(t *testing.T, s InferenceStore) {
			tn := newTenant(t)
			m := mustCreate(t, s, memOf(t, tn, app, "Likes tea"))
			got, err := s.ApplyInference(ctxFor(t), tn, app, []domain.InferenceOp{{Action: domain.InferAdd, Memory: memOf(t, tn, app, "Likes tea")}})
			require.NoError(t, err)
			require.Equal(t, []domain.InferenceChange{{Action: domain.InferNone, MemoryID: m.ID}}, got)
			require.Len(t, listAll(t, s, tn, domain.ListQuery{}), 1)
		},
		"Tenancy/OtherTenantsTargetFailsEverything": func(t *testing.T, s InferenceStore) {
			tn, other := newTenant(t), newTenant(t)
			theirs := mustCreate(t, s, memOf(t, other, app, "Their secret"))
			sameOrg := domain.Tenant{OrgID: tn.OrgID, UserID: "someone-else"}
			colleague := mustCreate(t, s, memOf(t, sameOrg, app, "Colleague's note"))
			for _, target := range []domain.MemoryID{theirs.ID, colleague.ID} {
				for _, action := range []domain.InferenceAction{domain.InferUpdate, domain.InferSupersede} {
					_, err := s.ApplyInference(ctxFor(t), tn, app, []domain.InferenceOp{
						{Action: domain.InferAdd, Memory: memOf(t, tn, app, "Mine")},
						{Action: action, Target: target, Text: "hacked", Memory: memOf(t, tn, app, "hacked")},
					})
					require.ErrorIs(t, err, domain.ErrNotFound)
				}
			}
			require.Empty(t, listAll(t, s, tn, domain.ListQuery{}), "nothing half-done: the add rolled back")
			for _, m := range []domain.Memory{theirs, colleague} {
				got, err := s.Get(ctxFor(t), m.Tenant(), m.ID)
				require.NoError(t, err)
				require.Equal(t, m.Text, got.Text)
				require.Equal(t, domain.StateActive, got.State)
				h, err := s.History(ctxFor(t), m.Tenant(), m.ID)
				require.NoError(t, err)
				require.Len(t, h, 1)
			}
			_, err := s.ApplyInference(ctxFor(t), tn, app, []domain.InferenceOp{{Action: domain.InferAdd, Memory: memOf(t, other, app, "Planted")}})
			require.ErrorIs(t, err, domain.ErrInvalid, "a new memory of another tenant")
		},
		"Apply/DeletedTargetFailsEverything": func(t *testing.T, s InferenceStore) {
			tn := newTenant(t)
			m := mustCreate(t, s, memOf(t, tn, app, "Old"))
			require.NoError(t, s.Delete(ctxFor(t), tn, []domain.MemoryID{m.ID}, app))
			_, err := s.ApplyInference(ctxFor(t), tn, app, []domain.InferenceOp{
				{Action: domain.InferAdd, Memory: memOf(t, tn, app, "New")},
				{Action: domain.InferSupersede, Target: m.ID, Memory: memOf(t, tn, app, "Newer")},
			})
			require.ErrorIs(t, err, domain.ErrNotFound)
			require.Empty(t, listAll(t, s, tn, domain.ListQuery{}))
		},
		"Successor/GoneWithErasure": func(t *testing.T, s InferenceStore) {
			tn := newTenant(t)
			old := mustCreate(t, s, memOf(t, tn, app, "Works at Acme"))
			succ := memOf(t, tn, app, "Works at Initech")
			_, err := s.ApplyInference(ctxFor(t), tn, app, []domain.InferenceOp{{Action: domain.InferSupersede, Target: old.ID, Memory: succ}})
			require.NoError(t, err)
			other := newTenant(t)
			none, err := s.Successor(ctxFor(t), other, old.ID)
			require.NoError(t, err)
			require.Empty(t, none, "another tenant sees no link")
			require.NoError(t, s.Erase(ctxFor(t), tn, succ.ID, app))
			none, err = s.Successor(ctxFor(t), tn, old.ID)
			require.NoError(t, err)
			require.Empty(t, none, "erasing the successor removes the link")
		},
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run(t, newStore(t))
		})
	}
}
