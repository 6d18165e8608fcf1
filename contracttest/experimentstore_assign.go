package contracttest

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func createdExperiment(t *testing.T, s ports.ExperimentStore) domain.Experiment {
	t.Helper()
	org := newTenant(t).OrgID
	e, err := s.CreateExperiment(ctxFor(t), org, newExperimentOf(t, org, "assign"))
	require.NoError(t, err)
	return e
}

func testAssignSticky(t *testing.T, s ports.ExperimentStore) {
	e := createdExperiment(t, s)
	first := domain.Assignment{ExperimentID: e.ID, UserID: "alice", Variant: "lexical", AssignedAt: baseTime}
	got, err := s.Assign(ctxFor(t), e.OrgID, first)
	require.NoError(t, err)
	require.Equal(t, first.Variant, got.Variant)
	require.True(t, first.AssignedAt.Equal(got.AssignedAt))

	again, err := s.Assign(ctxFor(t), e.OrgID, domain.Assignment{ExperimentID: e.ID, UserID: "alice", Variant: "control", AssignedAt: baseTime.Add(time.Hour)})
	require.NoError(t, err)
	require.Equal(t, "lexical", again.Variant, "the first assignment wins")
	require.True(t, baseTime.Equal(again.AssignedAt))
	stored, err := s.GetAssignment(ctxFor(t), e.OrgID, e.ID, "alice")
	require.NoError(t, err)
	require.Equal(t, "lexical", stored.Variant)
	_, err = s.GetAssignment(ctxFor(t), e.OrgID, e.ID, "bob")
	requireKind(t, err, domain.ErrNotFound)
	_, err = s.Assign(ctxFor(t), e.OrgID, domain.Assignment{ExperimentID: domain.NewExperimentID(time.Now()), UserID: "alice", Variant: "control", AssignedAt: baseTime})
	requireKind(t, err, domain.ErrNotFound, "unknown experiment")
	_, err = s.Assign(ctxFor(t), e.OrgID, domain.Assignment{ExperimentID: e.ID, UserID: "carol", Variant: "nope", AssignedAt: baseTime})
	requireKind(t, err, domain.ErrInvalid, "a variant the experiment does not have")
}

func testAssignConcurrent(t *testing.T, s ports.ExperimentStore) {
	e := createdExperiment(t, s)
	const racers = 10
	got := make([]string, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := "control"
			if i%2 == 1 {
				v = "lexical"
			}
			a, err := s.Assign(ctxFor(t), e.OrgID, domain.Assignment{ExperimentID: e.ID, UserID: "racer", Variant: v, AssignedAt: baseTime})
			if err == nil {
				got[i] = a.Variant
			}
		}()
	}
	wg.Wait()
	for i := range got {
		require.Equal(t, got[0], got[i], "every racer sees the one stored assignment")
	}
	require.NotEmpty(t, got[0])
	counts, err := s.AssignmentCounts(ctxFor(t), e.OrgID, e.ID)
	require.NoError(t, err)
	require.Equal(t, map[string]int{got[0]: 1}, counts)
}

func testAssignCountsErase(t *testing.T, s ports.ExperimentStore) {
	e := createdExperiment(t, s)
	for _, a := range []struct {
		user    domain.UserID
		variant string
	}{{"u1", "control"}, {"u2", "lexical"}, {"u3", "lexical"}} {
		_, err := s.Assign(ctxFor(t), e.OrgID, domain.Assignment{ExperimentID: e.ID, UserID: a.user, Variant: a.variant, AssignedAt: baseTime})
		require.NoError(t, err)
	}
	counts, err := s.AssignmentCounts(ctxFor(t), e.OrgID, e.ID)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"control": 1, "lexical": 2}, counts)
	other, err := s.AssignmentCounts(ctxFor(t), newTenant(t).OrgID, e.ID)
	require.NoError(t, err)
	require.Empty(t, other)

	require.NoError(t, s.EraseAssignments(ctxFor(t), domain.Tenant{OrgID: e.OrgID, UserID: "u2"}))
	_, err = s.GetAssignment(ctxFor(t), e.OrgID, e.ID, "u2")
	requireKind(t, err, domain.ErrNotFound)
	counts, err = s.AssignmentCounts(ctxFor(t), e.OrgID, e.ID)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"control": 1, "lexical": 1}, counts)
}
