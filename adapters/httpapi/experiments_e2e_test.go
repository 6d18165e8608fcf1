package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/adapters/localembed"
	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// feedbackStore is every port the feedback loop needs from one backend.
type feedbackStore interface {
	store
	ports.MemoryScanner
	ports.FeedbackStore
	ports.QueryLog
	ports.ExperimentStore
}

// feedbackBackends open the stores the end-to-end experiment runs on, with
// each one's own text index.
var feedbackBackends = map[string]func(testing.TB) (feedbackStore, ports.TextIndex){
	"sqlite": func(t testing.TB) (feedbackStore, ports.TextIndex) {
		s := newSQLiteStore(t).(*sqlitestore.Store)
		return s, s.TextIndex()
	},
	"postgres": func(t testing.TB) (feedbackStore, ports.TextIndex) {
		s := newPGStore(t)
		return s, s.TextIndex(pgstore.TextOptions{})
	},
}

// feedbackServer is a real HTTP server over the whole embedded stack:
// store, text index, in-process vectors, local embedder, indexer, memory,
// search, feedback and experiment services, JWKS-verified tokens.
type feedbackServer struct {
	t   testing.TB
	url string
	iss *issuer
}

func newFeedbackServer(t testing.TB, open func(testing.TB) (feedbackStore, ports.TextIndex)) *feedbackServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st, text := open(t)
	vectors := inproc.NewVectorIndex()
	embed, err := localembed.New(localembed.Options{})
	require.NoError(t, err)
	indexer := app.NewIndexer(app.IndexerDeps{Memories: st, Scanner: st, Text: text, Vectors: vectors, Embedder: embed})
	require.NoError(t, indexer.Bind(ctx))
	mem := app.NewMemoryService(app.MemoryDeps{Memories: st, Apps: st, Access: st, Observers: []app.ChangeObserver{indexer}})
	t.Cleanup(mem.Close)
	search := app.NewSearchService(app.SearchDeps{Memories: st, Text: text, Vectors: vectors, Embedder: embed, Reads: mem})
	fb := app.NewFeedbackService(app.FeedbackDeps{Feedback: st, Queries: st, Experiments: st})
	exps := app.NewExperimentService(app.ExperimentDeps{Experiments: st, Feedback: st, Queries: st})

	iss := newIssuer(t)
	replay := inproc.NewReplayCache(inproc.ReplayOptions{})
	t.Cleanup(func() { _ = replay.Close() })
	v, err := jwtauth.NewJWKS(ctx, jwtauth.Config{JWKSURL: iss.jwks.URL, Issuer: testIssuer, Audience: testAudience, PublicURL: publicURL, ReplayCache: replay})
	require.NoError(t, err)
	t.Cleanup(v.Close)
	srv, err := httpapi.New(httpapi.Config{PublicURL: publicURL}, httpapi.Deps{Memories: mem, Verifier: v})
	require.NoError(t, err)
	srv.EnableFeedback(fb, exps)
	srv.EnableSearch(app.NewExperimentSearch(search, exps, fb))
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &feedbackServer{t: t, url: hs.URL, iss: iss}
}

// token signs a token for org/user with scopes.
func (f *feedbackServer) token(org, user string, scopes ...domain.Scope) string {
	return f.iss.sign(f.t, claims(org, user, scopes...))
}

// call sends a JSON request over HTTP and decodes the JSON answer into a map.
func (f *feedbackServer) call(token, method, path string, body any) (int, map[string]any) {
	f.t.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(f.t, err)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, f.url+"/api/v1"+path, r)
	require.NoError(f.t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(f.t, err)
	defer resp.Body.Close()
	out := map[string]any{}
	raw, err := io.ReadAll(resp.Body)
	require.NoError(f.t, err)
	if len(raw) > 0 {
		require.NoError(f.t, json.Unmarshal(raw, &out), "%s %s: %s", method, path, raw)
	}
	return resp.StatusCode, out
}

var userScopes = append([]domain.Scope{domain.ScopeExperimentsRead}, domain.DefaultUserScopes...)

var operatorScopes = append([]domain.Scope{domain.ScopeExperimentsRead, domain.ScopeExperimentsWrite}, domain.DefaultUserScopes...)

// TestTwoVariantExperimentOverHTTP is the end-to-end scenario, on
// SQLite and on PostgreSQL: an operator runs a two-variant experiment; 24
// users search, are served by their sticky variant and send feedback; the
// results show per-variant exposures, acceptance with 95% intervals and a
// p-value against the control. docs/experiments.md walks through it.
func TestTwoVariantExperimentOverHTTP(t *testing.T) {
	for name, open := range feedbackBackends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFeedbackServer(t, open)
			ops := f.token("acme", "ops", operatorScopes...)

			status, exp := f.call(ops, "POST", "/experiments", map[string]any{
				"name": "lexical boost", "description": "does a heavier lexical ranking help?",
				"variants": []map[string]any{
					{"name": "control", "weight": 1, "params": map[string]any{"limit": 3}},
					{"name": "lexical", "weight": 1, "params": map[string]any{"limit": 3, "rrf_k": 20, "lexical_weight": 3, "vector_weight": 1}},
				},
			})
			require.Equal(t, http.StatusCreated, status, exp)
			require.Equal(t, "draft", exp["status"])
			id := exp["id"].(string)
			status, exp = f.call(ops, "POST", "/experiments/"+id+"/start", map[string]any{"reason": "ship it"})
			require.Equal(t, http.StatusOK, status, exp)
			require.Equal(t, "running", exp["status"])

			variantOf := map[string]string{}
			for i := range 24 {
				user := fmt.Sprintf("user-%02d", i)
				tok := f.token("acme", user, userScopes...)
				for _, text := range []string{"I drink green tea every morning", "my bicycle is blue", "tea with lemon when I am ill", "I live in Lyon"} {
					status, body := f.call(tok, "POST", "/memories", map[string]any{"text": text})
					require.Equal(t, http.StatusCreated, status, body)
				}
				status, res := f.call(tok, "POST", "/search", map[string]any{"query": "tea"})
				require.Equal(t, http.StatusOK, status, res)
				qid := res["query_id"].(string)
				hits := res["results"].([]any)
				require.NotEmpty(t, hits)
				require.LessOrEqual(t, len(hits), 3, "the variant's limit applies")

				status, a := f.call(tok, "GET", "/experiments/"+id+"/assignment", nil)
				require.Equal(t, http.StatusOK, status, a)
				variantOf[user] = a["variant"].(string)

				// The lexical variant's users accept its first result; the
				// control's accept one time in four.
				outcome := "rejected"
				if variantOf[user] == "lexical" || i%4 == 0 {
					outcome = "accepted"
				}
				first := hits[0].(map[string]any)["memory"].(map[string]any)["id"].(string)
				status, ev := f.call(tok, "POST", "/feedback", map[string]any{"query_id": qid, "memory_id": first, "outcome": outcome, "rating": 4})
				require.Equal(t, http.StatusCreated, status, ev)
				require.Equal(t, variantOf[user], ev["variant"], "attributed to the serving variant")
				require.Equal(t, id, ev["experiment_id"])
			}
			counts := map[string]int{}
			for _, v := range variantOf {
				counts[v]++
			}
			require.Len(t, counts, 2, "both variants serve users")

			status, res := f.call(ops, "GET", "/experiments/"+id+"/results", nil)
			require.Equal(t, http.StatusOK, status, res)
			vs := res["variants"].([]any)
			require.Len(t, vs, 2)
			ctl, lex := vs[0].(map[string]any), vs[1].(map[string]any)
			require.Equal(t, true, ctl["control"])
			require.Nil(t, ctl["p_value"])
			require.EqualValues(t, counts["control"], ctl["users"])
			require.EqualValues(t, counts["control"], ctl["exposures"])
			require.EqualValues(t, counts["control"], ctl["feedback"])
			require.EqualValues(t, counts["lexical"], lex["exposures"])
			require.EqualValues(t, counts["lexical"], lex["accepted"])
			require.InDelta(t, 1.0, lex["acceptance_rate"], 0)
			ci := lex["ci95"].([]any)
			require.Less(t, ci[0].(float64), 1.0)
			require.InDelta(t, 1.0, ci[1].(float64), 1e-9)
			require.NotNil(t, lex["p_value"])
			require.Less(t, lex["p_value"].(float64), 0.05, "the lexical variant wins")

			status, m := f.call(ops, "GET", "/feedback/metrics?scope=org&experiment_id="+id, nil)
			require.Equal(t, http.StatusOK, status, m)
			require.EqualValues(t, 24, m["total"])
			require.Len(t, m["by_variant"].([]any), 2)

			status, done := f.call(ops, "POST", "/experiments/"+id+"/complete", nil)
			require.Equal(t, http.StatusOK, status, done)
			require.Len(t, done["history"].([]any), 3)
		})
	}
}
