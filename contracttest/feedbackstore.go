package contracttest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// FeedbackBackend is what the feedback suite needs: the event store and the
// query log it validates feedback against, which every backend keeps side by
// side.
type FeedbackBackend interface {
	ports.FeedbackStore
	ports.QueryLog
}

// RunFeedbackStore runs the FeedbackStore and QueryLog contracts
// (ports/feedback.go) against stores made by newStore, one isolated store per
// parallel subtest.
func RunFeedbackStore(t *testing.T, newStore func(t *testing.T) FeedbackBackend) {
	cases := []struct {
		name string
		run  func(t *testing.T, s FeedbackBackend)
	}{
		{"Append/ListNewestFirstWithEveryField", testFeedbackRoundTrip},
		{"Append/InvalidBatchWritesNothing", testFeedbackInvalidBatch},
		{"Append/DuplicateIDWritesNothing", testFeedbackDuplicate},
		{"Append/OtherOrgEventIsInvalid", testFeedbackWrongOrg},
		{"List/Filters", testFeedbackFilters},
		{"List/PaginatesExactlyOnce", testFeedbackPagination},
		{"List/BadCursorIsInvalid", func(t *testing.T, s FeedbackBackend) {
			_, err := s.ListFeedback(ctxFor(t), newTenant(t).OrgID, domain.FeedbackFilter{}, 10, "not a cursor")
			requireKind(t, err, domain.ErrInvalid)
		}},
		{"Tenancy/OtherOrgSeesNothing", testFeedbackTenancy},
		{"Metrics/Aggregates", testFeedbackMetrics},
		{"Metrics/ExactOverDaysPurgeAndErasure", testFeedbackMetricsOverDays},
		{"Purge/DeletesOnlyOldOfOneOrg", testFeedbackPurge},
		{"Erase/DeletesOneUser", testFeedbackErase},
		{"QueryLog/RoundTripAndOwnership", testQueryLogRoundTrip},
		{"QueryLog/ListOldestFirstAcrossUsers", testQueryLogList},
		{"QueryLog/ExposureCounts", testQueryLogExposures},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t))
		})
	}
}

// baseTime is a fixed past instant, to the millisecond, so tests can place
// events before and after a cut-off without racing the wall clock.
var baseTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fbEvent(tn domain.Tenant, q domain.QueryID, outcome domain.Outcome, at time.Time) domain.FeedbackEvent {
	return domain.FeedbackEvent{
		ID: domain.NewID(at), OrgID: tn.OrgID, UserID: tn.UserID, QueryID: q, App: "agent",
		Outcome: outcome, CreatedAt: at,
	}
}

func queryLog(tn domain.Tenant, at time.Time) domain.QueryLog {
	return domain.QueryLog{
		ID: domain.NewQueryID(at), OrgID: tn.OrgID, UserID: tn.UserID, Query: "what do I like",
		Params: domain.SearchParams{}.Resolve(), CreatedAt: at,
	}
}

func listFeedbackAll(t *testing.T, s FeedbackBackend, org domain.OrgID, f domain.FeedbackFilter, limit int) []domain.FeedbackEvent {
	t.Helper()
	var out []domain.FeedbackEvent
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 1000, "ListFeedback never returned an empty cursor")
		page, err := s.ListFeedback(ctxFor(t), org, f, limit, cursor)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page.Events), limit)
		out = append(out, page.Events...)
		if page.Next == "" {
			return out
		}
		cursor = page.Next
	}
}

func testFeedbackRoundTrip(t *testing.T, s FeedbackBackend) {
	tn := newTenant(t)
	q := domain.NewQueryID(baseTime)
	full := fbEvent(tn, q, domain.OutcomeEdited, baseTime.Add(time.Second))
	full.MemoryID = domain.NewMemoryID(baseTime)
	full.Rating = 4
	full.LatencyMS = 1234
	full.ExperimentID = domain.NewExperimentID(baseTime)
	full.Variant = "treatment"
	full.App = "cursor"
	older := fbEvent(tn, q, domain.OutcomeAccepted, baseTime)
	require.NoError(t, s.AppendFeedback(ctxFor(t), tn.OrgID, []domain.FeedbackEvent{older, full}))

	got := listFeedbackAll(t, s, tn.OrgID, domain.FeedbackFilter{}, 10)
	require.Len(t, got, 2)
	require.Equal(t, full.ID, got[0].ID, "newest first")
	require.Equal(t, older.ID, got[1].ID)
	g := got[0]
	require.True(t, full.CreatedAt.Equal(g.CreatedAt), "CreatedAt %v != %v", full.CreatedAt, g.CreatedAt)
	g.CreatedAt = full.CreatedAt
	require.Equal(t, full, g)
}

func testFeedbackInvalidBatch(t *testing.T, s FeedbackBackend) {
	tn := newTenant(t)
	q := domain.NewQueryID(baseTime)
	good := fbEvent(tn, q, domain.OutcomeAccepted, baseTime)
	for name, mutate := range map[string]func(*domain.FeedbackEvent){
		"rating 7":        func(e *domain.FeedbackEvent) { e.Rating = 7 },
		"unknown outcome": func(e *domain.FeedbackEvent) { e.Outcome = "meh" },
		"no query":        func(e *domain.FeedbackEvent) { e.QueryID = "" },
	} {
		bad := fbEvent(tn, q, domain.OutcomeAccepted, baseTime)
		mutate(&bad)
		requireKind(t, s.AppendFeedback(ctxFor(t), tn.OrgID, []domain.FeedbackEvent{good, bad}), domain.ErrInvalid, name)
	}
	requireKind(t, s.AppendFeedback(ctxFor(t), tn.OrgID, nil), domain.ErrInvalid, "empty batch")
	tooMany := make([]domain.FeedbackEvent, domain.MaxFeedbackBatch+1)
	for i := range tooMany {
		tooMany[i] = fbEvent(tn, q, domain.OutcomeAccepted, baseTime)
	}
	requireKind(t, s.AppendFeedback(ctxFor(t), tn.OrgID, tooMany), domain.ErrInvalid, "batch too big")
	require.Empty(t, listFeedbackAll(t, s, tn.OrgID, domain.FeedbackFilter{}, 10), "nothing written")
}

func testFeedbackDuplicate(t *testing.T, s FeedbackBackend) {
	tn := newTenant(t)
	e := fbEvent(tn, domain.NewQueryID(baseTime), domain.OutcomeAccepted, baseTime)
	require.NoError(t, s.AppendFeedback(ctxFor(t), tn.OrgID, []domain.FeedbackEvent{e}))
	fresh := fbEvent(tn, e.QueryID, domain.OutcomeRejected, baseTime)
	err := s.AppendFeedback(ctxFor(t), tn.OrgID, []domain.FeedbackEvent{fresh, e})
	requireKind(t, err, domain.ErrAlreadyExists)
	got := listFeedbackAll(t, s, tn.OrgID, domain.FeedbackFilter{}, 10)
	require.Len(t, got, 1, "the fresh event of the failed batch is not written")
}

func testFeedbackWrongOrg(t *testing.T, s FeedbackBackend) {
	tn, other := newTenant(t), newTenant(t)
	e := fbEvent(other, domain.NewQueryID(baseTime), domain.OutcomeAccepted, baseTime)
	requireKind(t, s.AppendFeedback(ctxFor(t), tn.OrgID, []domain.FeedbackEvent{e}), domain.ErrInvalid)
	require.Empty(t, listFeedbackAll(t, s, other.OrgID, domain.FeedbackFilter{}, 10))
	require.Empty(t, listFeedbackAll(t, s, tn.OrgID, domain.FeedbackFilter{}, 10))
}

func testFeedbackFilters(t *testing.T, s FeedbackBackend) {
	alice := newTenant(t)
	bob := domain.Tenant{OrgID: alice.OrgID, UserID: "bob-" + domain.UserID(randHex(t))}
	q1, q2 := domain.NewQueryID(baseTime), domain.NewQueryID(baseTime)
	exp := domain.NewExperimentID(baseTime)
	e1 := fbEvent(alice, q1, domain.OutcomeAccepted, baseTime)
	e2 := fbEvent(alice, q2, domain.OutcomeRejected, baseTime.Add(time.Minute))
	e2.ExperimentID, e2.Variant = exp, "b"
	e3 := fbEvent(bob, q2, domain.OutcomeIgnored, baseTime.Add(2*time.Minute))
	require.NoError(t, s.AppendFeedback(ctxFor(t), alice.OrgID, []domain.FeedbackEvent{e1, e2, e3}))

	ids := func(f domain.FeedbackFilter) []string {
		var out []string
		for _, e := range listFeedbackAll(t, s, alice.OrgID, f, 2) {
			out = append(out, e.ID)
		}
		return out
	}
	require.Equal(t, []string{e3.ID, e2.ID, e1.ID}, ids(domain.FeedbackFilter{}), "the whole org")
	require.Equal(t, []string{e2.ID, e1.ID}, ids(domain.FeedbackFilter{UserID: alice.UserID}))
	require.Equal(t, []string{e3.ID, e2.ID}, ids(domain.FeedbackFilter{QueryID: q2}))
	require.Equal(t, []string{e2.ID}, ids(domain.FeedbackFilter{ExperimentID: exp}))
	require.Equal(t, []string{e3.ID, e2.ID}, ids(domain.FeedbackFilter{Since: baseTime.Add(time.Minute)}), "since is inclusive")
	require.Equal(t, []string{e1.ID}, ids(domain.FeedbackFilter{Until: baseTime.Add(time.Minute)}), "until is exclusive")
	require.Empty(t, ids(domain.FeedbackFilter{UserID: bob.UserID, QueryID: q1}), "filters AND")
}

func testFeedbackPagination(t *testing.T, s FeedbackBackend) {
	tn := newTenant(t)
	q := domain.NewQueryID(baseTime)
	var batch []domain.FeedbackEvent
	for i := range 25 {
		// Pairs share a timestamp so the id tie-break is exercised.
		batch = append(batch, fbEvent(tn, q, domain.OutcomeAccepted, baseTime.Add(time.Duration(i/2)*time.Second)))
	}
	require.NoError(t, s.AppendFeedback(ctxFor(t), tn.OrgID, batch))
	first, err := s.ListFeedback(ctxFor(t), tn.OrgID, domain.FeedbackFilter{}, 7, "")
	require.NoError(t, err)
	// An event appended after paging started, newer than everything, must
	// not shift later pages.
	require.NoError(t, s.AppendFeedback(ctxFor(t), tn.OrgID, []domain.FeedbackEvent{fbEvent(tn, q, domain.OutcomeAccepted, baseTime.Add(time.Hour))}))
	seen := map[string]bool{}
	for _, e := range first.Events {
		seen[e.ID] = true
	}
	cursor := first.Next
	for cursor != "" {
		page, err := s.ListFeedback(ctxFor(t), tn.OrgID, domain.FeedbackFilter{}, 7, cursor)
		require.NoError(t, err)
		for _, e := range page.Events {
			require.False(t, seen[e.ID], "event %s seen twice", e.ID)
			seen[e.ID] = true
		}
		cursor = page.Next
	}
	for _, e := range batch {
		require.True(t, seen[e.ID], "event %s missed", e.ID)
	}
	require.Len(t, seen, 25)
}

func testFeedbackTenancy(t *testing.T, s FeedbackBackend) {
	a, b := newTenant(t), newTenant(t)
	q := domain.NewQueryID(baseTime)
	require.NoError(t, s.AppendFeedback(ctxFor(t), a.OrgID, []domain.FeedbackEvent{fbEvent(a, q, domain.OutcomeAccepted, baseTime)}))
	require.Empty(t, listFeedbackAll(t, s, b.OrgID, domain.FeedbackFilter{QueryID: q}, 10))
	m, err := s.FeedbackMetrics(ctxFor(t), b.OrgID, domain.FeedbackFilter{})
	require.NoError(t, err)
	require.Zero(t, m.Outcomes.Total())
	n, err := s.PurgeFeedback(ctxFor(t), b.OrgID, baseTime.Add(time.Hour))
	require.NoError(t, err)
	require.Zero(t, n)
	require.Len(t, listFeedbackAll(t, s, a.OrgID, domain.FeedbackFilter{}, 10), 1)
}

func testFeedbackMetrics(t *testing.T, s FeedbackBackend) {
	tn := newTenant(t)
	q := domain.NewQueryID(baseTime)
	exp := domain.NewExperimentID(baseTime)
	var batch []domain.FeedbackEvent
	add := func(app domain.AppID, variant string, o domain.Outcome, rating int) {
		e := fbEvent(tn, q, o, baseTime.Add(time.Duration(len(batch))*time.Second))
		e.App, e.Rating = app, rating
		if variant != "" {
			e.ExperimentID, e.Variant = exp, variant
		}
		batch = append(batch, e)
	}
	add("cursor", "a", domain.OutcomeAccepted, 5)
	add("cursor", "a", domain.OutcomeRejected, 1)
	add("cursor", "b", domain.OutcomeAccepted, 0)
	add("claude", "b", domain.OutcomeAccepted, 3)
	add("claude", "", domain.OutcomeIgnored, 0)
	add("claude", "", domain.OutcomeEdited, 0)
	require.NoError(t, s.AppendFeedback(ctxFor(t), tn.OrgID, batch))

	m, err := s.FeedbackMetrics(ctxFor(t), tn.OrgID, domain.FeedbackFilter{})
	require.NoError(t, err)
	require.Equal(t, domain.OutcomeCounts{"accepted": 3, "rejected": 1, "ignored": 1, "edited": 1}, m.Outcomes)
	require.InDelta(t, 0.5, m.Outcomes.AcceptanceRate(), 1e-12)
	require.Equal(t, []domain.FeedbackGroup{
		{Key: "claude", Outcomes: domain.OutcomeCounts{"accepted": 1, "ignored": 1, "edited": 1}},
		{Key: "cursor", Outcomes: domain.OutcomeCounts{"accepted": 2, "rejected": 1}},
	}, m.ByApp)
	require.Equal(t, []domain.FeedbackGroup{
		{Key: "a", Outcomes: domain.OutcomeCounts{"accepted": 1, "rejected": 1}},
		{Key: "b", Outcomes: domain.OutcomeCounts{"accepted": 2}},
	}, m.ByVariant)
	require.Equal(t, 3, m.Rated)
	require.InDelta(t, 3.0, m.AvgRating, 1e-9)

	m, err = s.FeedbackMetrics(ctxFor(t), tn.OrgID, domain.FeedbackFilter{ExperimentID: exp, Since: baseTime.Add(time.Second)})
	require.NoError(t, err)
	require.Equal(t, domain.OutcomeCounts{"accepted": 2, "rejected": 1}, m.Outcomes, "filters apply to metrics")
}

func testFeedbackPurge(t *testing.T, s FeedbackBackend) {
	a, b := newTenant(t), newTenant(t)
	var batchA, batchB []domain.FeedbackEvent
	for i := range 4 {
		at := baseTime.Add(time.Duration(i) * 24 * time.Hour)
		batchA = append(batchA, fbEvent(a, domain.NewQueryID(at), domain.OutcomeAccepted, at))
		batchB = append(batchB, fbEvent(b, domain.NewQueryID(at), domain.OutcomeAccepted, at))
		require.NoError(t, s.LogQuery(ctxFor(t), a, queryLog(a, at)))
	}
	require.NoError(t, s.AppendFeedback(ctxFor(t), a.OrgID, batchA))
	require.NoError(t, s.AppendFeedback(ctxFor(t), b.OrgID, batchB))
	orgs, err := s.FeedbackOrgs(ctxFor(t))
	require.NoError(t, err)
	require.Contains(t, orgs, a.OrgID)
	require.Contains(t, orgs, b.OrgID)

	cut := baseTime.Add(2 * 24 * time.Hour)
	n, err := s.PurgeFeedback(ctxFor(t), a.OrgID, cut)
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	left := listFeedbackAll(t, s, a.OrgID, domain.FeedbackFilter{}, 10)
	require.Len(t, left, 2)
	for _, e := range left {
		require.False(t, e.CreatedAt.Before(cut))
	}
	logs, _, err := s.ListQueries(ctxFor(t), a.OrgID, time.Time{}, 10, "")
	require.NoError(t, err)
	require.Len(t, logs, 2, "query logs are purged with feedback")
	require.Len(t, listFeedbackAll(t, s, b.OrgID, domain.FeedbackFilter{}, 10), 4, "other org untouched")
	n, err = s.PurgeFeedback(ctxFor(t), a.OrgID, cut)
	require.NoError(t, err)
	require.Zero(t, n, "idempotent")
}

func testFeedbackErase(t *testing.T, s FeedbackBackend) {
	alice := newTenant(t)
	bob := domain.Tenant{OrgID: alice.OrgID, UserID: "bob-" + domain.UserID(randHex(t))}
	qa, qb := queryLog(alice, baseTime), queryLog(bob, baseTime)
	require.NoError(t, s.LogQuery(ctxFor(t), alice, qa))
	require.NoError(t, s.LogQuery(ctxFor(t), bob, qb))
	require.NoError(t, s.AppendFeedback(ctxFor(t), alice.OrgID, []domain.FeedbackEvent{
		fbEvent(alice, qa.ID, domain.OutcomeAccepted, baseTime), fbEvent(alice, qa.ID, domain.OutcomeRejected, baseTime),
		fbEvent(bob, qb.ID, domain.OutcomeAccepted, baseTime),
	}))
	n, err := s.EraseUserFeedback(ctxFor(t), alice)
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	left := listFeedbackAll(t, s, alice.OrgID, domain.FeedbackFilter{}, 10)
	require.Len(t, left, 1)
	require.Equal(t, bob.UserID, left[0].UserID)
	_, err = s.GetQuery(ctxFor(t), alice, qa.ID)
	requireKind(t, err, domain.ErrNotFound)
	_, err = s.GetQuery(ctxFor(t), bob, qb.ID)
	require.NoError(t, err)
}

func testQueryLogRoundTrip(t *testing.T, s FeedbackBackend) {
	tn := newTenant(t)
	q := queryLog(tn, baseTime)
	q.Params = domain.SearchParams{Mode: domain.SearchLexical, RRFK: 20, Weights: domain.Weights{Lexical: 2, Vector: 0.5}, Limit: 5}
	q.ResultIDs = []domain.MemoryID{domain.NewMemoryID(baseTime), domain.NewMemoryID(baseTime)}
	q.ExperimentID, q.Variant = domain.NewExperimentID(baseTime), "b"
	require.NoError(t, s.LogQuery(ctxFor(t), tn, q))
	got, err := s.GetQuery(ctxFor(t), tn, q.ID)
	require.NoError(t, err)
	require.True(t, q.CreatedAt.Equal(got.CreatedAt))
	got.CreatedAt = q.CreatedAt
	require.Equal(t, q, got)

	requireKind(t, s.LogQuery(ctxFor(t), tn, q), domain.ErrAlreadyExists)
	sameOrg := domain.Tenant{OrgID: tn.OrgID, UserID: "other-" + domain.UserID(randHex(t))}
	_, err = s.GetQuery(ctxFor(t), sameOrg, q.ID)
	requireKind(t, err, domain.ErrNotFound, "another user's query")
	_, err = s.GetQuery(ctxFor(t), newTenant(t), q.ID)
	requireKind(t, err, domain.ErrNotFound, "another org's query")
	requireKind(t, s.LogQuery(ctxFor(t), sameOrg, queryLog(tn, baseTime)), domain.ErrInvalid, "log for another user")
	bad := queryLog(tn, baseTime)
	bad.Params.RRFK = -1
	requireKind(t, s.LogQuery(ctxFor(t), tn, bad), domain.ErrInvalid)
}

func testQueryLogList(t *testing.T, s FeedbackBackend) {
	alice := newTenant(t)
	bob := domain.Tenant{OrgID: alice.OrgID, UserID: "bob-" + domain.UserID(randHex(t))}
	var want []domain.QueryID
	for i := range 9 {
		tn := alice
		if i%2 == 1 {
			tn = bob
		}
		q := queryLog(tn, baseTime.Add(time.Duration(i)*time.Minute))
		q.Query = fmt.Sprintf("query %d", i)
		require.NoError(t, s.LogQuery(ctxFor(t), tn, q))
		want = append(want, q.ID)
	}
	stranger := newTenant(t)
	require.NoError(t, s.LogQuery(ctxFor(t), stranger, queryLog(stranger, baseTime.Add(time.Hour))))
	var got []domain.QueryID
	cursor := ""
	for range 10 {
		logs, next, err := s.ListQueries(ctxFor(t), alice.OrgID, baseTime.Add(time.Minute), 3, cursor)
		require.NoError(t, err)
		for _, l := range logs {
			got = append(got, l.ID)
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	require.Equal(t, want[1:], got, "oldest first, since inclusive, every user of the org, no other org")
}

func testQueryLogExposures(t *testing.T, s FeedbackBackend) {
	tn := newTenant(t)
	exp := domain.NewExperimentID(baseTime)
	for i, v := range []string{"a", "b", "b", "a", "b", ""} {
		q := queryLog(tn, baseTime.Add(time.Duration(i)*time.Second))
		if v != "" {
			q.ExperimentID, q.Variant = exp, v
		}
		require.NoError(t, s.LogQuery(ctxFor(t), tn, q))
	}
	got, err := s.ExposureCounts(ctxFor(t), tn.OrgID, exp)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"a": 2, "b": 3}, got)
	got, err = s.ExposureCounts(ctxFor(t), newTenant(t).OrgID, exp)
	require.NoError(t, err)
	require.Empty(t, got)
}
