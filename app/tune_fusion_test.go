package app_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

func TestTuneFusionReplaysLoggedSearchesWithTheirFeedback(t *testing.T) {
	ctx := context.Background()
	e := newFeedbackEnv(t)
	topics := []string{"espresso machine", "mountain bike", "jazz records", "sourdough bread", "chess openings", "rain boots"}
	accepted := 0
	for i, topic := range topics {
		u := user(fmt.Sprintf("tuner-%d", i))
		for _, text := range []string{
			"I own a " + topic, "my friend dislikes " + topic, "the weather is nice today",
			"a note about taxes", "bought a " + topic + " last year for my brother",
		} {
			e.add(t, u, text)
		}
		// Lexical searches whose first result the user accepts: replayed
		// with a lexical-only setting, that memory must come first again.
		res, err := e.xs.Search(ctx, u, app.SearchRequest{Query: topic, Mode: domain.SearchLexical}, "")
		require.NoError(t, err)
		require.NotEmpty(t, res.Results)
		_, err = e.fb.Submit(ctx, u, []app.FeedbackInput{{QueryID: res.QueryID, MemoryID: string(res.Results[0].Memory.ID), Outcome: "accepted"}})
		require.NoError(t, err)
		accepted++
		// A search with only a rejection is not replayed.
		res, err = e.xs.Search(ctx, u, app.SearchRequest{Query: "weather"}, "")
		require.NoError(t, err)
		_, err = e.fb.Submit(ctx, u, []app.FeedbackInput{{QueryID: res.QueryID, MemoryID: string(res.Results[0].Memory.ID), Outcome: "rejected"}})
		require.NoError(t, err)
	}

	tuner := app.NewFusionTuner(e.search, e.store, e.store)
	rep, err := tuner.Tune(ctx, app.TuneInput{Org: "org-1", TopK: 1, Ks: []int{20, 60}, Weights: []float64{0, 1, 3}})
	require.NoError(t, err)
	require.Equal(t, accepted, rep.Replayed)
	require.Zero(t, rep.Skipped)
	require.Len(t, rep.Points, 2*(3*3-1), "every k crossed with every weight pair but (0, 0)")
	for _, p := range rep.Points {
		if p.Weights.Vector == 0 {
			require.Equal(t, accepted, p.Hits, "lexical-only at k=%d ranks the accepted memory first again", p.RRFK)
			require.InDelta(t, 1.0, p.MRR, 1e-12)
		}
		require.LessOrEqual(t, p.Hits, rep.Best.Hits)
	}
	require.Equal(t, accepted, rep.Best.Hits)
	require.InDelta(t, 1.0, rep.Best.Rate, 1e-12)
	require.Equal(t, domain.DefaultRRFK, rep.Current.RRFK)
	require.Equal(t, domain.DefaultWeights, rep.Current.Weights)
	require.LessOrEqual(t, rep.Current.Hits, rep.Best.Hits)

	// With every candidate in reach, any setting that ranks both lists
	// finds every accepted memory.
	rep, err = tuner.Tune(ctx, app.TuneInput{Org: "org-1", TopK: 100, Ks: []int{60}, Weights: []float64{1}})
	require.NoError(t, err)
	require.Equal(t, accepted, rep.Current.Hits)

	rep, err = tuner.Tune(ctx, app.TuneInput{Org: "other-org"})
	require.NoError(t, err)
	require.Zero(t, rep.Replayed, "another org's searches are not replayed")
	_, err = tuner.Tune(ctx, app.TuneInput{Org: "org-1", TopK: 1000})
	require.ErrorIs(t, err, domain.ErrInvalid)
}
