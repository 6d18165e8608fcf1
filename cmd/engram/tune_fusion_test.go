package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
)

// seedFeedbackDir writes, into a fresh data directory, users' memories,
// logged lexical searches and acceptance of each first result, through the
// same services engramd runs.
func seedFeedbackDir(t *testing.T) (dir string, accepted int) {
	t.Helper()
	ctx := context.Background()
	dir = t.TempDir()
	cfg, err := config.Load(nil, func(k string) string { return map[string]string{"ENGRAM_DATA_DIR": dir}[k] })
	require.NoError(t, err)
	b, err := wiring.OpenStore(ctx, cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer b.Close()
	search, err := wiring.OpenSearch(ctx, cfg, b)
	require.NoError(t, err)
	stack, err := wiring.NewCore(ctx, b, search, wiring.CoreOptions{})
	require.NoError(t, err)
	defer stack.Close()
	fb := app.NewFeedbackService(app.FeedbackDeps{Feedback: b.Feedback, Queries: b.QueryLog, Experiments: b.Experiments})
	xs := app.NewExperimentSearch(stack.Search, nil, fb)
	for i, topic := range []string{"espresso", "bicycle", "saxophone", "sourdough"} {
		p := domain.Principal{OrgID: "org-1", UserID: domain.UserID(fmt.Sprintf("u%d", i)), Scopes: domain.DefaultUserScopes}
		for _, text := range []string{"I love my " + topic, "the weather is grey", "a " + topic + " for my sister", "taxes are due"} {
			_, _, err := stack.Memories.Add(ctx, p, app.AddInput{Text: text})
			require.NoError(t, err)
		}
		res, err := xs.Search(ctx, p, app.SearchRequest{Query: topic, Mode: domain.SearchLexical}, "")
		require.NoError(t, err)
		require.NotEmpty(t, res.Results)
		_, err = fb.Submit(ctx, p, []app.FeedbackInput{{QueryID: res.QueryID, MemoryID: string(res.Results[0].Memory.ID), Outcome: "accepted"}})
		require.NoError(t, err)
		accepted++
	}
	return dir, accepted
}

func TestTuneFusionCommandReportsAndCreatesExperiment(t *testing.T) {
	dir, accepted := seedFeedbackDir(t)
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"tune-fusion", "--data-dir", dir, "--org", "org-1", "--top-k", "1",
		"--k", "20,60", "--weights", "0,1", "--json", "--create-experiment", "tuned fusion"}, &out, &errb)
	require.NoError(t, err, errb.String())
	var rep struct {
		Replayed     int    `json:"replayed"`
		ExperimentID string `json:"experiment_id"`
		Best         struct {
			Hits int     `json:"hits"`
			Rate float64 `json:"hit_rate"`
		} `json:"best"`
		Current struct {
			RRFK int `json:"rrf_k"`
		} `json:"current"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep), out.String())
	require.Equal(t, accepted, rep.Replayed)
	require.Equal(t, accepted, rep.Best.Hits, "lexical-only puts every accepted first result back on top")
	require.Equal(t, domain.DefaultRRFK, rep.Current.RRFK)
	require.NotEmpty(t, rep.ExperimentID)

	st, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: wiring.SQLitePath(dir)})
	require.NoError(t, err)
	defer st.Close()
	e, err := st.GetExperiment(context.Background(), "org-1", domain.ExperimentID(rep.ExperimentID))
	require.NoError(t, err)
	require.Equal(t, domain.ExperimentDraft, e.Status)
	require.Equal(t, []string{"control", "tuned"}, []string{e.Variants[0].Name, e.Variants[1].Name})
	require.Equal(t, domain.DefaultRRFK, e.Variants[0].Params.RRFK)

	out.Reset()
	require.NoError(t, run(context.Background(), []string{"tune-fusion", "--data-dir", dir, "--org", "org-1"}, &out, &errb))
	require.Contains(t, out.String(), "replayed 4 searches")
	require.Contains(t, out.String(), "current")

	require.ErrorContains(t, run(context.Background(), []string{"tune-fusion", "--data-dir", dir}, &out, &errb), "--org is required")
	require.ErrorContains(t, run(context.Background(), []string{"tune-fusion", "--data-dir", dir, "--org", "o", "--k", "x"}, &out, &errb), "--k")
}
