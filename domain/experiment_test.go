package domain_test

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

func twoVariants() []domain.Variant {
	return []domain.Variant{
		{Name: "control", Weight: 1},
		{Name: "lexical-heavy", Weight: 1, Params: domain.SearchParams{RRFK: 20, Weights: domain.Weights{Lexical: 2, Vector: 1}}},
	}
}

func TestExperimentTransitions(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e, err := domain.NewExperiment("org", "op", " ranking ", "", twoVariants(), now)
	require.NoError(t, err)
	require.Equal(t, "ranking", e.Name)
	require.Equal(t, domain.ExperimentDraft, e.Status)

	steps := []struct {
		action domain.ExperimentAction
		want   domain.ExperimentStatus
	}{
		{domain.ActionStart, domain.ExperimentRunning},
		{domain.ActionPause, domain.ExperimentPaused},
		{domain.ActionResume, domain.ExperimentRunning},
		{domain.ActionComplete, domain.ExperimentCompleted},
	}
	for i, s := range steps {
		require.NoError(t, e.Apply(s.action, "op", "step", now.Add(time.Duration(i+1)*time.Minute)))
		require.Equal(t, s.want, e.Status)
	}
	require.Equal(t, now.Add(time.Minute), e.StartedAt, "StartedAt is the first start, not the resume")
	require.Equal(t, now.Add(4*time.Minute), e.EndedAt)
	require.Len(t, e.History, 5)
	require.Equal(t, domain.ExperimentPaused, e.History[3].From)
	require.Equal(t, domain.UserID("op"), e.History[4].Actor)

	for _, a := range []domain.ExperimentAction{domain.ActionStart, domain.ActionResume, domain.ActionPause, domain.ActionCancel, domain.ActionComplete} {
		err := e.Apply(a, "op", "", now)
		require.ErrorIs(t, err, domain.ErrConflict, "%s a completed experiment", a)
		var te *domain.TransitionError
		require.True(t, errors.As(err, &te))
	}
	require.Len(t, e.History, 5, "a refused action writes no history")
}

func TestExperimentIllegalEdges(t *testing.T) {
	cases := map[domain.ExperimentStatus][]domain.ExperimentAction{
		domain.ExperimentDraft:     {domain.ActionPause, domain.ActionResume, domain.ActionComplete},
		domain.ExperimentRunning:   {domain.ActionStart, domain.ActionResume},
		domain.ExperimentPaused:    {domain.ActionStart, domain.ActionPause},
		domain.ExperimentCancelled: {domain.ActionStart, domain.ActionResume, domain.ActionCancel},
	}
	for st, actions := range cases {
		for _, a := range actions {
			e := domain.Experiment{Status: st}
			require.ErrorIs(t, e.Apply(a, "op", "", time.Now()), domain.ErrConflict, "%s from %s", a, st)
			require.Equal(t, st, e.Status)
		}
	}
	e := domain.Experiment{Status: domain.ExperimentDraft}
	require.NoError(t, e.Apply(domain.ActionCancel, "op", "", time.Now()))
	require.Equal(t, domain.ExperimentCancelled, e.Status)
}

func TestValidateVariants(t *testing.T) {
	bad := map[string][]domain.Variant{
		"one variant":  {{Name: "a", Weight: 1}},
		"zero sum":     {{Name: "a", Weight: 0}, {Name: "b", Weight: 0}},
		"negative":     {{Name: "a", Weight: -1}, {Name: "b", Weight: 2}},
		"NaN":          {{Name: "a", Weight: math.NaN()}, {Name: "b", Weight: 1}},
		"inf":          {{Name: "a", Weight: math.Inf(1)}, {Name: "b", Weight: 1}},
		"duplicate":    {{Name: "a", Weight: 1}, {Name: "a", Weight: 1}},
		"bad name":     {{Name: "a b", Weight: 1}, {Name: "c", Weight: 1}},
		"bad mode":     {{Name: "a", Weight: 1, Params: domain.SearchParams{Mode: "fuzzy"}}, {Name: "b", Weight: 1}},
		"bad k":        {{Name: "a", Weight: 1, Params: domain.SearchParams{RRFK: -3}}, {Name: "b", Weight: 1}},
		"bad limit":    {{Name: "a", Weight: 1, Params: domain.SearchParams{Limit: 1000}}, {Name: "b", Weight: 1}},
		"zero weights": {{Name: "a", Weight: 1, Params: domain.SearchParams{Weights: domain.Weights{Lexical: 0, Vector: -1}}}, {Name: "b", Weight: 1}},
	}
	for name, vs := range bad {
		require.ErrorIs(t, domain.ValidateVariants(vs), domain.ErrInvalid, name)
	}
	require.NoError(t, domain.ValidateVariants([]domain.Variant{{Name: "a", Weight: 0}, {Name: "b", Weight: 0.5}}))
}

func TestAssignVariantDeterministicAndProportional(t *testing.T) {
	vs := []domain.Variant{{Name: "a", Weight: 1}, {Name: "b", Weight: 3}, {Name: "off", Weight: 0}}
	id := domain.ExperimentID("0190a000-0000-7000-8000-000000000001")
	counts := map[string]int{}
	const users = 20000
	for i := range users {
		u := domain.UserID(fmt.Sprintf("user-%d", i))
		v := domain.AssignVariant(id, u, vs)
		require.Equal(t, v, domain.AssignVariant(id, u, vs), "same inputs, same variant")
		counts[v]++
	}
	require.Zero(t, counts["off"], "weight 0 is never picked")
	// Expect 25% / 75%; 4 standard deviations of a binomial(20000, .25) is ~245.
	require.InDelta(t, users/4, counts["a"], 245)
	require.InDelta(t, 3*users/4, counts["b"], 245)

	// Another experiment id reshuffles users: assignments are not correlated
	// across experiments.
	same := 0
	for i := range 1000 {
		u := domain.UserID(fmt.Sprintf("user-%d", i))
		if domain.AssignVariant(id, u, vs) == domain.AssignVariant("0190a000-0000-7000-8000-000000000002", u, vs) {
			same++
		}
	}
	require.Less(t, same, 750, "independent draws agree about 62.5% of the time")
}

func TestWilsonIntervalKnownValues(t *testing.T) {
	// Newcombe (1998), Statistics in Medicine 17:857, Table I, method 3.
	for _, c := range []struct {
		x, n      int
		low, high float64
	}{{81, 263, 0.2553, 0.3662}, {15, 148, 0.0624, 0.1605}, {0, 20, 0, 0.1611}, {1, 29, 0.0061, 0.1718}} {
		iv := domain.WilsonInterval(c.x, c.n)
		require.InDelta(t, c.low, iv.Low, 5e-5, "%d/%d low", c.x, c.n)
		require.InDelta(t, c.high, iv.High, 5e-5, "%d/%d high", c.x, c.n)
	}
	require.Equal(t, domain.Interval{Low: 0, High: 1}, domain.WilsonInterval(0, 0))
}

func TestTwoProportionPValueKnownValues(t *testing.T) {
	// 50/100 vs 60/100: pooled p = .55, z = -1.4213, two-sided p = .1552.
	p, ok := domain.TwoProportionPValue(50, 100, 60, 100)
	require.True(t, ok)
	require.InDelta(t, 0.1552, p, 5e-5)
	// 200/1000 vs 240/1000: z = -2.1592, p = .0308 (significant at 5%).
	p, ok = domain.TwoProportionPValue(200, 1000, 240, 1000)
	require.True(t, ok)
	require.InDelta(t, 0.0308, p, 5e-5)
	// Symmetric in the order of the groups.
	q, _ := domain.TwoProportionPValue(240, 1000, 200, 1000)
	require.InDelta(t, p, q, 1e-12)
	// Identical proportions: p = 1.
	p, ok = domain.TwoProportionPValue(30, 100, 3, 10)
	require.True(t, ok)
	require.InDelta(t, 1, p, 1e-12)
	_, ok = domain.TwoProportionPValue(10, 10, 5, 5)
	require.False(t, ok, "zero variance")
	_, ok = domain.TwoProportionPValue(0, 0, 5, 5)
	require.False(t, ok, "empty group")
}

func TestComputeResults(t *testing.T) {
	e := domain.Experiment{Variants: twoVariants()}
	res := domain.ComputeResults(e,
		map[string]int{"control": 10, "lexical-heavy": 12},
		map[string]int{"control": 100, "lexical-heavy": 100},
		[]domain.FeedbackGroup{
			{Key: "control", Outcomes: domain.OutcomeCounts{domain.OutcomeAccepted: 50, domain.OutcomeRejected: 50}},
			{Key: "lexical-heavy", Outcomes: domain.OutcomeCounts{domain.OutcomeAccepted: 60, domain.OutcomeIgnored: 30, domain.OutcomeEdited: 10}},
		})
	require.Len(t, res.Variants, 2)
	ctl, v := res.Variants[0], res.Variants[1]
	require.True(t, ctl.Control)
	require.Nil(t, ctl.PValue)
	require.Equal(t, 10, ctl.Users)
	require.Equal(t, 100, v.Feedback)
	require.Equal(t, 60, v.Accepted)
	require.InDelta(t, 0.6, v.Rate, 1e-12)
	require.NotNil(t, v.PValue)
	require.InDelta(t, 0.1552, *v.PValue, 5e-5)
	require.Less(t, v.CI95.Low, 0.6)
	require.Greater(t, v.CI95.High, 0.6)
}
