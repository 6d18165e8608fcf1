package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// feedbackEnv adds the feedback loop to the embedded search profile.
type feedbackEnv struct {
	*searchEnv
	fb   *app.FeedbackService
	exps *app.ExperimentService
	xs   *app.ExperimentSearch
}

func newFeedbackEnv(t *testing.T) *feedbackEnv {
	t.Helper()
	e := newSearchEnv(t)
	fb := app.NewFeedbackService(app.FeedbackDeps{Feedback: e.store, Queries: e.store, Experiments: e.store})
	exps := app.NewExperimentService(app.ExperimentDeps{Experiments: e.store, Feedback: e.store, Queries: e.store})
	return &feedbackEnv{searchEnv: e, fb: fb, exps: exps, xs: app.NewExperimentSearch(e.search, exps, fb)}
}

var operator = domain.Principal{
	OrgID: "org-1", UserID: "ops", ClientID: "console",
	Scopes: append([]domain.Scope{domain.ScopeExperimentsRead, domain.ScopeExperimentsWrite}, domain.DefaultUserScopes...),
}

func user(name string) domain.Principal {
	return domain.Principal{OrgID: "org-1", UserID: domain.UserID(name), Scopes: domain.DefaultUserScopes, ClientID: "cursor"}
}

// limitVariants differ in the limit, so a test sees which one served a
// search by counting its results.
func limitVariants() []domain.Variant {
	return []domain.Variant{
		{Name: "control", Weight: 1, Params: domain.SearchParams{Limit: 3}},
		{Name: "wide", Weight: 1, Params: domain.SearchParams{Limit: 5, RRFK: 10, Weights: domain.Weights{Lexical: 2, Vector: 1}}},
	}
}

func TestExperimentSearchAppliesStickyVariantAndAttributesFeedback(t *testing.T) {
	ctx := context.Background()
	e := newFeedbackEnv(t)
	x, err := e.exps.Create(ctx, operator, app.ExperimentInput{Name: "limit test", Variants: limitVariants()})
	require.NoError(t, err)
	_, err = e.exps.Act(ctx, operator, x.ID, domain.ActionStart, "go")
	require.NoError(t, err)

	seen := map[string]int{}
	for i := range 12 {
		u := user(fmt.Sprintf("user-%d", i))
		for j := range 6 {
			e.add(t, u, fmt.Sprintf("note %d about tea number %d", j, i))
		}
		res, err := e.xs.Search(ctx, u, app.SearchRequest{Query: "tea"}, "")
		require.NoError(t, err)
		a, err := e.exps.Assignment(ctx, domain.Principal{OrgID: u.OrgID, UserID: u.UserID, Scopes: []domain.Scope{domain.ScopeExperimentsRead}}, x.ID)
		require.NoError(t, err)
		want := map[string]int{"control": 3, "wide": 5}[a.Variant]
		require.Len(t, res.Results, want, "user %s in %s", u.UserID, a.Variant)
		seen[a.Variant]++

		q, err := e.store.GetQuery(ctx, u.Tenant(), domain.QueryID(res.QueryID))
		require.NoError(t, err)
		require.Equal(t, x.ID, q.ExperimentID)
		require.Equal(t, a.Variant, q.Variant)
		if a.Variant == "wide" {
			require.Equal(t, 10, q.Params.RRFK)
			require.Equal(t, domain.Weights{Lexical: 2, Vector: 1}, q.Params.Weights)
		} else {
			require.Equal(t, domain.DefaultRRFK, q.Params.RRFK)
		}
		outcome := "rejected"
		if a.Variant == "wide" {
			outcome = "accepted"
		}
		evs, err := e.fb.Submit(ctx, u, []app.FeedbackInput{{QueryID: res.QueryID, MemoryID: string(res.Results[0].Memory.ID), Outcome: outcome, Rating: ptr(4)}})
		require.NoError(t, err)
		require.Equal(t, a.Variant, evs[0].Variant, "feedback is attributed to the variant that served the query")
		require.Equal(t, domain.AppID("cursor"), evs[0].App)
	}
	require.Len(t, seen, 2, "12 users land in both variants")

	// Changing weights while running moves no assigned user.
	before := map[string]string{}
	for i := range 12 {
		a, err := e.store.GetAssignment(ctx, "org-1", x.ID, domain.UserID(fmt.Sprintf("user-%d", i)))
		require.NoError(t, err)
		before[string(a.UserID)] = a.Variant
	}
	vs := limitVariants()
	vs[0].Weight, vs[1].Weight = 0, 1
	_, err = e.exps.Update(ctx, operator, x.ID, app.ExperimentPatch{Variants: &vs})
	require.NoError(t, err)
	for i := range 12 {
		u := user(fmt.Sprintf("user-%d", i))
		_, err := e.xs.Search(ctx, u, app.SearchRequest{Query: "tea"}, "")
		require.NoError(t, err)
		a, err := e.store.GetAssignment(ctx, "org-1", x.ID, u.UserID)
		require.NoError(t, err)
		require.Equal(t, before[string(u.UserID)], a.Variant, "sticky")
	}
	newcomer := user("newcomer")
	e.add(t, newcomer, "tea with lemon")
	_, err = e.xs.Search(ctx, newcomer, app.SearchRequest{Query: "tea"}, "")
	require.NoError(t, err)
	a, err := e.store.GetAssignment(ctx, "org-1", x.ID, newcomer.UserID)
	require.NoError(t, err)
	require.Equal(t, "wide", a.Variant, "new users follow the new weights")

	res, err := e.exps.Results(ctx, operator, x.ID)
	require.NoError(t, err)
	require.Len(t, res.Variants, 2)
	ctl, wide := res.Variants[0], res.Variants[1]
	require.Equal(t, seen["control"], ctl.Users)
	require.Equal(t, seen["wide"]+1, wide.Users)
	require.Equal(t, 2*seen["control"], ctl.Exposures)
	require.Equal(t, 2*seen["wide"]+1, wide.Exposures)
	require.Equal(t, seen["control"], ctl.Feedback)
	require.Zero(t, ctl.Accepted)
	require.Equal(t, seen["wide"], wide.Accepted)
	require.InDelta(t, 1.0, wide.Rate, 0)
	require.NotNil(t, wide.PValue)
	require.Less(t, *wide.PValue, 0.01, "all accepted vs none accepted over 12 users is significant")
}

func TestFeedbackBadInputWritesNothing(t *testing.T) {
	ctx := context.Background()
	e := newFeedbackEnv(t)
	alice, bob := user("alice"), user("bob")
	m := e.add(t, alice, "alice drinks green tea")
	e.add(t, alice, "alice owns a bicycle")
	res, err := e.xs.Search(ctx, alice, app.SearchRequest{Query: "green tea", Mode: domain.SearchLexical}, "")
	require.NoError(t, err)
	require.NotEmpty(t, res.Results)
	other, err := e.xs.Search(ctx, domain.Principal{OrgID: "org-2", UserID: "alice", Scopes: domain.DefaultUserScopes}, app.SearchRequest{Query: "tea"}, "")
	require.NoError(t, err)

	cases := map[string]struct {
		p     domain.Principal
		in    app.FeedbackInput
		field string
	}{
		"rating 7":                 {alice, app.FeedbackInput{QueryID: res.QueryID, Outcome: "accepted", Rating: ptr(7)}, "rating"},
		"rating 0":                 {alice, app.FeedbackInput{QueryID: res.QueryID, Outcome: "accepted", Rating: ptr(0)}, "rating"},
		"unknown outcome":          {alice, app.FeedbackInput{QueryID: res.QueryID, Outcome: "loved"}, "outcome"},
		"another user's query":     {bob, app.FeedbackInput{QueryID: res.QueryID, Outcome: "accepted"}, "query_id"},
		"another org's query":      {alice, app.FeedbackInput{QueryID: other.QueryID, Outcome: "accepted"}, "query_id"},
		"memory not in the result": {alice, app.FeedbackInput{QueryID: res.QueryID, MemoryID: string(domain.NewMemoryID(time.Now())), Outcome: "accepted"}, "memory_id"},
		"not a query id":           {alice, app.FeedbackInput{QueryID: "q-1", Outcome: "accepted"}, "query_id"},
	}
	for name, c := range cases {
		_, err := e.fb.Submit(ctx, c.p, []app.FeedbackInput{c.in})
		var ve *domain.ValidationError
		require.ErrorAs(t, err, &ve, name)
		require.Equal(t, c.field, ve.Field, name)
	}
	// One bad event refuses the batch and names its index.
	_, err = e.fb.Submit(ctx, alice, []app.FeedbackInput{
		{QueryID: res.QueryID, MemoryID: string(m.ID), Outcome: "accepted"},
		{QueryID: res.QueryID, Outcome: "accepted", Rating: ptr(9)},
	})
	var ve *domain.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "events[1].rating", ve.Field)

	page, err := e.fb.List(ctx, alice, app.FeedbackQuery{})
	require.NoError(t, err)
	require.Empty(t, page.Events, "nothing written")

	_, err = e.fb.Submit(ctx, domain.Principal{OrgID: "org-1", UserID: "alice", Scopes: []domain.Scope{domain.ScopeFeedbackRead}}, []app.FeedbackInput{{QueryID: res.QueryID, Outcome: "accepted"}})
	require.ErrorIs(t, err, domain.ErrForbidden)
	_, err = e.fb.List(ctx, alice, app.FeedbackQuery{OrgWide: true})
	require.ErrorIs(t, err, domain.ErrForbidden, "org-wide feedback is for operators")
}

func TestExperimentStatusRulesThroughTheService(t *testing.T) {
	ctx := context.Background()
	e := newFeedbackEnv(t)
	_, err := e.exps.Create(ctx, user("alice"), app.ExperimentInput{Name: "x", Variants: limitVariants()})
	require.ErrorIs(t, err, domain.ErrForbidden, "experiments:write is an operator scope")
	zero := limitVariants()
	zero[0].Weight, zero[1].Weight = 0, 0
	_, err = e.exps.Create(ctx, operator, app.ExperimentInput{Name: "x", Variants: zero})
	require.ErrorIs(t, err, domain.ErrInvalid)

	a, err := e.exps.Create(ctx, operator, app.ExperimentInput{Name: "a", Variants: limitVariants()})
	require.NoError(t, err)
	b, err := e.exps.Create(ctx, operator, app.ExperimentInput{Name: "b", Variants: limitVariants()})
	require.NoError(t, err)
	_, err = e.exps.Act(ctx, operator, a.ID, domain.ActionStart, "")
	require.NoError(t, err)
	_, err = e.exps.Act(ctx, operator, b.ID, domain.ActionStart, "")
	require.ErrorIs(t, err, domain.ErrConflict, "one running experiment per org")
	require.Contains(t, err.Error(), "another experiment")

	changed := limitVariants()
	changed[1].Params.Limit = 7
	_, err = e.exps.Update(ctx, operator, a.ID, app.ExperimentPatch{Variants: &changed})
	require.ErrorIs(t, err, domain.ErrConflict, "parameters are fixed once started")

	done, err := e.exps.Act(ctx, operator, a.ID, domain.ActionComplete, "enough data")
	require.NoError(t, err)
	require.Equal(t, domain.ExperimentCompleted, done.Status)
	require.Equal(t, "enough data", done.History[len(done.History)-1].Reason)
	require.Equal(t, domain.UserID("ops"), done.History[len(done.History)-1].Actor)
	_, err = e.exps.Act(ctx, operator, a.ID, domain.ActionStart, "")
	require.ErrorIs(t, err, domain.ErrConflict, "starting a completed experiment")
	name := "renamed"
	_, err = e.exps.Update(ctx, operator, a.ID, app.ExperimentPatch{Name: &name})
	require.ErrorIs(t, err, domain.ErrConflict, "a finished experiment is frozen")
	got, err := e.exps.Get(ctx, operator, a.ID)
	require.NoError(t, err)
	require.Equal(t, "a", got.Name)
	_, err = e.exps.Act(ctx, operator, b.ID, domain.ActionStart, "")
	require.NoError(t, err, "the slot is free again")
}

func TestFeedbackPurgeAndErase(t *testing.T) {
	ctx := context.Background()
	e := newFeedbackEnv(t)
	alice := user("alice")
	e.add(t, alice, "alice likes oolong tea")
	res, err := e.xs.Search(ctx, alice, app.SearchRequest{Query: "tea"}, "")
	require.NoError(t, err)
	_, err = e.fb.Submit(ctx, alice, []app.FeedbackInput{{QueryID: res.QueryID, Outcome: "ignored"}})
	require.NoError(t, err)

	purged, err := e.fb.Purge(ctx, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.Equal(t, []app.PurgeResult{{Org: "org-1", Deleted: 0}}, purged, "recent feedback is kept")
	purged, err = e.fb.Purge(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, []app.PurgeResult{{Org: "org-1", Deleted: 1}}, purged)
	_, err = e.fb.Submit(ctx, alice, []app.FeedbackInput{{QueryID: res.QueryID, Outcome: "accepted"}})
	require.ErrorIs(t, err, domain.ErrInvalid, "the query log went with retention")

	res, err = e.xs.Search(ctx, alice, app.SearchRequest{Query: "tea"}, "")
	require.NoError(t, err)
	_, err = e.fb.Submit(ctx, alice, []app.FeedbackInput{{QueryID: res.QueryID, Outcome: "accepted"}})
	require.NoError(t, err)
	n, err := e.fb.EraseUser(ctx, alice.Tenant())
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	m, err := e.fb.Metrics(ctx, alice, app.FeedbackQuery{})
	require.NoError(t, err)
	require.Zero(t, m.Outcomes.Total())
}

// stepClock is a clock tests move by hand.
type stepClock struct{ t time.Time }

func (c *stepClock) Now() time.Time { return c.t }

func TestPlanSearchCachesTheRunningExperimentBriefly(t *testing.T) {
	ctx := context.Background()
	e := newFeedbackEnv(t)
	clock := &stepClock{t: time.Now()}
	exps := app.NewExperimentService(app.ExperimentDeps{Experiments: e.store, Feedback: e.store, Queries: e.store, Clock: clock})
	alice := user("alice")
	plan, err := exps.PlanSearch(ctx, alice)
	require.NoError(t, err)
	require.Empty(t, plan.Variant, "nothing runs")

	// Started through another server (the store directly): this one keeps
	// its cached "nothing runs" for at most RunningCacheTTL.
	x, err := domain.NewExperiment("org-1", "ops", "x", "", limitVariants(), clock.t)
	require.NoError(t, err)
	x.Status = domain.ExperimentRunning
	_, err = e.store.CreateExperiment(ctx, "org-1", x)
	require.NoError(t, err)
	plan, err = exps.PlanSearch(ctx, alice)
	require.NoError(t, err)
	require.Empty(t, plan.Variant, "cached")
	clock.t = clock.t.Add(app.RunningCacheTTL)
	plan, err = exps.PlanSearch(ctx, alice)
	require.NoError(t, err)
	require.Equal(t, x.ID, plan.ExperimentID)
	require.NotEmpty(t, plan.Variant)

	// A change through this service is seen at once.
	_, err = exps.Act(ctx, operator, x.ID, domain.ActionPause, "")
	require.NoError(t, err)
	plan, err = exps.PlanSearch(ctx, alice)
	require.NoError(t, err)
	require.Empty(t, plan.Variant, "paused: searches run outside the experiment")
}

func ptr[T any](v T) *T { return &v }
