package contracttest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// RunExperimentStore runs the ExperimentStore contract (ports/experiment.go)
// against stores made by newStore, one isolated store per parallel subtest.
func RunExperimentStore(t *testing.T, newStore func(t *testing.T) ports.ExperimentStore) {
	cases := []struct {
		name string
		run  func(t *testing.T, s ports.ExperimentStore)
	}{
		{"Create/GetRoundTrip", testExperimentRoundTrip},
		{"Create/DuplicateIDAlreadyExists", testExperimentDuplicate},
		{"Create/InvalidWritesNothing", testExperimentInvalid},
		{"Get/NotFound", func(t *testing.T, s ports.ExperimentStore) {
			_, err := s.GetExperiment(ctxFor(t), newTenant(t).OrgID, domain.NewExperimentID(time.Now()))
			requireKind(t, err, domain.ErrNotFound)
		}},
		{"Tenancy/OtherOrgIsNotFound", testExperimentTenancy},
		{"List/NewestFirstByStatus", testExperimentList},
		{"Update/TransitionsAppendHistory", testExperimentTransitions},
		{"Update/CallerErrorWritesNothing", testExperimentUpdateAbort},
		{"Update/OneRunningPerOrg", testExperimentOneRunning},
		{"Update/ConcurrentUpdatesLoseNothing", testExperimentConcurrentUpdates},
		{"Assign/FirstAssignmentSticks", testAssignSticky},
		{"Assign/ConcurrentFirstExposuresAgree", testAssignConcurrent},
		{"Assign/CountsAndErase", testAssignCountsErase},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t))
		})
	}
}

func newExperimentOf(t *testing.T, org domain.OrgID, name string) domain.Experiment {
	t.Helper()
	e, err := domain.NewExperiment(org, "operator", name, "ranking test", []domain.Variant{
		{Name: "control", Weight: 1},
		{Name: "lexical", Weight: 2.5, Params: domain.SearchParams{Mode: domain.SearchHybrid, RRFK: 20, Weights: domain.Weights{Lexical: 2, Vector: 0.5}, Limit: 7}},
	}, baseTime)
	require.NoError(t, err)
	return e
}

// requireSameExperiment compares every field, times by instant.
func requireSameExperiment(t *testing.T, want, got domain.Experiment) {
	t.Helper()
	times := func(e *domain.Experiment) []time.Time {
		ts := []time.Time{e.CreatedAt, e.UpdatedAt, e.StartedAt, e.EndedAt}
		for _, h := range e.History {
			ts = append(ts, h.At)
		}
		return ts
	}
	wt, gt := times(&want), times(&got)
	require.Equal(t, len(wt), len(gt), "history length")
	for i := range wt {
		require.True(t, wt[i].Equal(gt[i]), "time %d: want %v, got %v", i, wt[i], gt[i])
	}
	strip := func(e domain.Experiment) domain.Experiment {
		e.CreatedAt, e.UpdatedAt, e.StartedAt, e.EndedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		h := make([]domain.StatusChange, len(e.History))
		for i, c := range e.History {
			c.At = time.Time{}
			h[i] = c
		}
		e.History = h
		return e
	}
	require.Equal(t, strip(want), strip(got))
}

func testExperimentRoundTrip(t *testing.T, s ports.ExperimentStore) {
	org := newTenant(t).OrgID
	e := newExperimentOf(t, org, "rrf-k")
	stored, err := s.CreateExperiment(ctxFor(t), org, e)
	require.NoError(t, err)
	requireSameExperiment(t, e, stored)
	got, err := s.GetExperiment(ctxFor(t), org, e.ID)
	require.NoError(t, err)
	requireSameExperiment(t, e, got)
}

func testExperimentDuplicate(t *testing.T, s ports.ExperimentStore) {
	org := newTenant(t).OrgID
	e := newExperimentOf(t, org, "dup")
	_, err := s.CreateExperiment(ctxFor(t), org, e)
	require.NoError(t, err)
	_, err = s.CreateExperiment(ctxFor(t), org, e)
	requireKind(t, err, domain.ErrAlreadyExists)
}

func testExperimentInvalid(t *testing.T, s ports.ExperimentStore) {
	org := newTenant(t).OrgID
	e := newExperimentOf(t, org, "bad")
	e.Variants[0].Weight, e.Variants[1].Weight = 0, 0
	_, err := s.CreateExperiment(ctxFor(t), org, e)
	requireKind(t, err, domain.ErrInvalid, "weights summing to zero")
	other := newExperimentOf(t, newTenant(t).OrgID, "foreign")
	_, err = s.CreateExperiment(ctxFor(t), org, other)
	requireKind(t, err, domain.ErrInvalid, "experiment of another org")
	list, err := s.ListExperiments(ctxFor(t), org, "")
	require.NoError(t, err)
	require.Empty(t, list)
}

func testExperimentTenancy(t *testing.T, s ports.ExperimentStore) {
	org, other := newTenant(t).OrgID, newTenant(t).OrgID
	e := newExperimentOf(t, org, "mine")
	_, err := s.CreateExperiment(ctxFor(t), org, e)
	require.NoError(t, err)
	_, err = s.GetExperiment(ctxFor(t), other, e.ID)
	requireKind(t, err, domain.ErrNotFound)
	_, err = s.UpdateExperiment(ctxFor(t), other, e.ID, func(x *domain.Experiment) error {
		return x.Apply(domain.ActionStart, "intruder", "", time.Now())
	})
	requireKind(t, err, domain.ErrNotFound)
	_, err = s.Assign(ctxFor(t), other, domain.Assignment{ExperimentID: e.ID, UserID: "u", Variant: "control", AssignedAt: baseTime})
	requireKind(t, err, domain.ErrNotFound)
	list, err := s.ListExperiments(ctxFor(t), other, "")
	require.NoError(t, err)
	require.Empty(t, list)
	got, err := s.GetExperiment(ctxFor(t), org, e.ID)
	require.NoError(t, err)
	require.Equal(t, domain.ExperimentDraft, got.Status)
}

func testExperimentList(t *testing.T, s ports.ExperimentStore) {
	org := newTenant(t).OrgID
	var ids []domain.ExperimentID
	for i := range 3 {
		e := newExperimentOf(t, org, fmt.Sprintf("e%d", i))
		e.CreatedAt = baseTime.Add(time.Duration(i) * time.Hour)
		_, err := s.CreateExperiment(ctxFor(t), org, e)
		require.NoError(t, err)
		ids = append(ids, e.ID)
	}
	_, err := s.UpdateExperiment(ctxFor(t), org, ids[1], func(e *domain.Experiment) error {
		return e.Apply(domain.ActionStart, "op", "go", baseTime.Add(5*time.Hour))
	})
	require.NoError(t, err)
	all, err := s.ListExperiments(ctxFor(t), org, "")
	require.NoError(t, err)
	require.Len(t, all, 3)
	require.Equal(t, []domain.ExperimentID{ids[2], ids[1], ids[0]}, []domain.ExperimentID{all[0].ID, all[1].ID, all[2].ID})
	require.Len(t, all[1].History, 2, "list carries the history")
	running, err := s.ListExperiments(ctxFor(t), org, domain.ExperimentRunning)
	require.NoError(t, err)
	require.Len(t, running, 1)
	require.Equal(t, ids[1], running[0].ID)
}

func testExperimentTransitions(t *testing.T, s ports.ExperimentStore) {
	org := newTenant(t).OrgID
	e := newExperimentOf(t, org, "life")
	_, err := s.CreateExperiment(ctxFor(t), org, e)
	require.NoError(t, err)
	_, err = s.RunningExperiment(ctxFor(t), org)
	requireKind(t, err, domain.ErrNotFound, "a draft is not running")
	want := e
	for i, a := range []domain.ExperimentAction{domain.ActionStart, domain.ActionPause, domain.ActionResume} {
		at := baseTime.Add(time.Duration(i+1) * time.Minute)
		require.NoError(t, want.Apply(a, "op", string(a)+" it", at))
		got, err := s.UpdateExperiment(ctxFor(t), org, e.ID, func(x *domain.Experiment) error {
			return x.Apply(a, "op", string(a)+" it", at)
		})
		require.NoError(t, err)
		requireSameExperiment(t, want, got)
	}
	running, err := s.RunningExperiment(ctxFor(t), org)
	require.NoError(t, err)
	requireSameExperiment(t, want, running)

	// Weights may change while running; the store keeps the new ones.
	got, err := s.UpdateExperiment(ctxFor(t), org, e.ID, func(x *domain.Experiment) error {
		x.Variants[1].Weight = 9
		return nil
	})
	require.NoError(t, err)
	require.InDelta(t, 9.0, got.Variants[1].Weight, 0)
	got, err = s.UpdateExperiment(ctxFor(t), org, e.ID, func(x *domain.Experiment) error {
		return x.Apply(domain.ActionComplete, "op", "done", baseTime.Add(time.Hour))
	})
	require.NoError(t, err)
	require.Equal(t, domain.ExperimentCompleted, got.Status)
	require.Len(t, got.History, 5)
	_, err = s.RunningExperiment(ctxFor(t), org)
	requireKind(t, err, domain.ErrNotFound)
}

func testExperimentUpdateAbort(t *testing.T, s ports.ExperimentStore) {
	org := newTenant(t).OrgID
	e := newExperimentOf(t, org, "abort")
	_, err := s.CreateExperiment(ctxFor(t), org, e)
	require.NoError(t, err)
	sentinel := errors.New("changed my mind")
	_, err = s.UpdateExperiment(ctxFor(t), org, e.ID, func(x *domain.Experiment) error {
		x.Name = "renamed"
		return sentinel
	})
	require.ErrorIs(t, err, sentinel)
	_, err = s.UpdateExperiment(ctxFor(t), org, e.ID, func(x *domain.Experiment) error {
		x.Variants[0].Weight, x.Variants[1].Weight = 0, 0
		return nil
	})
	requireKind(t, err, domain.ErrInvalid, "the store validates what fn left")
	got, err := s.GetExperiment(ctxFor(t), org, e.ID)
	require.NoError(t, err)
	requireSameExperiment(t, e, got)
}

func testExperimentOneRunning(t *testing.T, s ports.ExperimentStore) {
	org := newTenant(t).OrgID
	a, b := newExperimentOf(t, org, "a"), newExperimentOf(t, org, "b")
	for _, e := range []domain.Experiment{a, b} {
		_, err := s.CreateExperiment(ctxFor(t), org, e)
		require.NoError(t, err)
	}
	start := func(id domain.ExperimentID, action domain.ExperimentAction) error {
		_, err := s.UpdateExperiment(ctxFor(t), org, id, func(x *domain.Experiment) error {
			return x.Apply(action, "op", "", time.Now())
		})
		return err
	}
	require.NoError(t, start(a.ID, domain.ActionStart))
	requireKind(t, start(b.ID, domain.ActionStart), domain.ErrConflict)
	got, err := s.GetExperiment(ctxFor(t), org, b.ID)
	require.NoError(t, err)
	require.Equal(t, domain.ExperimentDraft, got.Status, "nothing written")
	require.Len(t, got.History, 1)
	require.NoError(t, start(a.ID, domain.ActionPause))
	require.NoError(t, start(b.ID, domain.ActionStart), "a paused experiment does not block")
	requireKind(t, start(a.ID, domain.ActionResume), domain.ErrConflict)
	// Another org runs its own experiment regardless.
	other := newTenant(t).OrgID
	c := newExperimentOf(t, other, "c")
	c.Status = domain.ExperimentRunning
	_, err = s.CreateExperiment(ctxFor(t), other, c)
	require.NoError(t, err)
}

func testExperimentConcurrentUpdates(t *testing.T, s ports.ExperimentStore) {
	org := newTenant(t).OrgID
	e := newExperimentOf(t, org, "race")
	_, err := s.CreateExperiment(ctxFor(t), org, e)
	require.NoError(t, err)
	const writers = 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.UpdateExperiment(ctxFor(t), org, e.ID, func(x *domain.Experiment) error {
				x.Variants[1].Weight++
				return nil
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got, err := s.GetExperiment(ctxFor(t), org, e.ID)
	require.NoError(t, err)
	require.InDelta(t, 2.5+writers, got.Variants[1].Weight, 1e-9, "every increment survives")
}
