package contracttest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

// testFeedbackMetricsOverDays spreads events over five days at odd hours and
// checks metrics for ranges that start and end inside days, whole days and
// open ends against counts made here, before and after a purge and an
// erasure. Backends that pre-aggregate by day must agree with the raw rows.
func testFeedbackMetricsOverDays(t *testing.T, s FeedbackBackend) {
	alice := newTenant(t)
	bob := domain.Tenant{OrgID: alice.OrgID, UserID: "bob-" + domain.UserID(randHex(t))}
	exp := domain.NewExperimentID(baseTime)
	day0 := baseTime.Truncate(24 * time.Hour)
	var all []domain.FeedbackEvent
	for i := range 60 {
		tn := alice
		if i%3 == 0 {
			tn = bob
		}
		e := fbEvent(tn, domain.NewQueryID(day0), domain.Outcomes[i%4], day0.Add(time.Duration(i*2)*time.Hour+17*time.Minute))
		e.Rating = i % 6
		e.App = []domain.AppID{"cursor", "claude"}[i%2]
		if i%5 != 0 {
			e.ExperimentID, e.Variant = exp, []string{"a", "b"}[i%2]
		}
		all = append(all, e)
	}
	require.NoError(t, s.AppendFeedback(ctxFor(t), alice.OrgID, all))

	expect := func(f domain.FeedbackFilter, events []domain.FeedbackEvent) domain.FeedbackMetrics {
		var m domain.FeedbackMetrics
		for _, e := range events {
			switch {
			case f.UserID != "" && e.UserID != f.UserID,
				f.ExperimentID != "" && e.ExperimentID != f.ExperimentID,
				!f.Since.IsZero() && e.CreatedAt.Before(f.Since),
				!f.Until.IsZero() && !e.CreatedAt.Before(f.Until):
				continue
			}
			rated, sum := 0, 0.0
			if e.Rating > 0 {
				rated, sum = 1, float64(e.Rating)
			}
			m.AddCount(e.App, e.Variant, e.Outcome, 1, sum, rated)
		}
		m.Finish()
		return m
	}
	filters := map[string]domain.FeedbackFilter{
		"all":              {},
		"inside days":      {Since: day0.Add(30 * time.Hour), Until: day0.Add(90 * time.Hour)},
		"whole days":       {Since: day0.Add(24 * time.Hour), Until: day0.Add(72 * time.Hour)},
		"within one day":   {Since: day0.Add(49 * time.Hour), Until: day0.Add(60 * time.Hour)},
		"open end":         {Since: day0.Add(50 * time.Hour)},
		"open start":       {Until: day0.Add(50 * time.Hour)},
		"experiment range": {ExperimentID: exp, Since: day0.Add(5 * time.Hour)},
		"one user":         {UserID: bob.UserID, Since: day0.Add(5 * time.Hour)},
	}
	check := func(stage string, events []domain.FeedbackEvent) {
		for name, f := range filters {
			got, err := s.FeedbackMetrics(ctxFor(t), alice.OrgID, f)
			require.NoError(t, err)
			want := expect(f, events)
			require.Equal(t, want.Outcomes, got.Outcomes, "%s: %s", stage, name)
			require.Equal(t, want.ByApp, got.ByApp, "%s: %s", stage, name)
			require.Equal(t, want.ByVariant, got.ByVariant, "%s: %s", stage, name)
			require.Equal(t, want.Rated, got.Rated, "%s: %s", stage, name)
			require.InDelta(t, want.AvgRating, got.AvgRating, 1e-9, "%s: %s", stage, name)
		}
	}
	check("appended", all)

	cut := day0.Add(37 * time.Hour)
	_, err := s.PurgeFeedback(ctxFor(t), alice.OrgID, cut)
	require.NoError(t, err)
	var kept []domain.FeedbackEvent
	for _, e := range all {
		if !e.CreatedAt.Before(cut) {
			kept = append(kept, e)
		}
	}
	check("purged", kept)

	_, err = s.EraseUserFeedback(ctxFor(t), bob)
	require.NoError(t, err)
	var aliceOnly []domain.FeedbackEvent
	for _, e := range kept {
		if e.UserID == alice.UserID {
			aliceOnly = append(aliceOnly, e)
		}
	}
	check("erased", aliceOnly)
}
