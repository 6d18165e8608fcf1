package domain_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

func validEvent() domain.FeedbackEvent {
	now := time.Now()
	return domain.FeedbackEvent{
		ID: domain.NewID(now), OrgID: "org", UserID: "alice", QueryID: domain.NewQueryID(now),
		App: "cursor", Outcome: domain.OutcomeAccepted, Rating: 4, CreatedAt: now,
	}
}

func TestFeedbackEventValidate(t *testing.T) {
	require.NoError(t, validEvent().Validate())
	bad := map[string]func(*domain.FeedbackEvent){
		"rating":     func(e *domain.FeedbackEvent) { e.Rating = 7 },
		"outcome":    func(e *domain.FeedbackEvent) { e.Outcome = "loved" },
		"query_id":   func(e *domain.FeedbackEvent) { e.QueryID = "q1" },
		"memory_id":  func(e *domain.FeedbackEvent) { e.MemoryID = "m1" },
		"app":        func(e *domain.FeedbackEvent) { e.App = "Bad App" },
		"latency_ms": func(e *domain.FeedbackEvent) { e.LatencyMS = -1 },
		"variant":    func(e *domain.FeedbackEvent) { e.Variant = "b" },
		"org_id":     func(e *domain.FeedbackEvent) { e.OrgID = "" },
	}
	for field, mutate := range bad {
		e := validEvent()
		mutate(&e)
		err := e.Validate()
		require.ErrorIs(t, err, domain.ErrInvalid, field)
		var ve *domain.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, field, ve.Field)
	}
}

func TestOutcomeCounts(t *testing.T) {
	c := domain.OutcomeCounts{domain.OutcomeAccepted: 3, domain.OutcomeRejected: 1}
	require.Equal(t, 4, c.Total())
	require.InDelta(t, 0.75, c.AcceptanceRate(), 1e-12)
	require.Zero(t, domain.OutcomeCounts{}.AcceptanceRate())
	_, err := domain.ParseOutcome("maybe")
	require.ErrorIs(t, err, domain.ErrInvalid)
}

func TestSearchParamsResolveAndValidate(t *testing.T) {
	p := domain.SearchParams{}.Resolve()
	require.Equal(t, domain.SearchHybrid, p.Mode)
	require.Equal(t, domain.DefaultRRFK, p.RRFK)
	require.Equal(t, domain.DefaultWeights, p.Weights)
	require.Equal(t, domain.DefaultSearchLimit, p.Limit)
	require.NoError(t, p.Validate())
	require.ErrorIs(t, domain.SearchParams{RRFK: domain.MaxRRFK + 1}.Validate(), domain.ErrInvalid)
	require.ErrorIs(t, domain.SearchParams{Weights: domain.Weights{Lexical: 11, Vector: 1}}.Validate(), domain.ErrInvalid)
}
