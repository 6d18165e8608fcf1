package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
)

// BenchmarkSearchQuestionsHTTP is issue 14's embedded latency target measured
// as a client sees it: the full engramd stack (SQLite + FTS5, in-process
// vectors, local embedder, auth, access log) behind POST /api/v1/search,
// one user holding 1,000 of testdata/conv's chat turns, queried with the
// set's 112 questions (6-15 words) in turn, limit 10, one request at a
// time. Reports p50 and p95 per mode.
//
//	go test ./cmd/engram -run '^$' -bench SearchQuestionsHTTP -benchtime 2000x
func BenchmarkSearchQuestionsHTTP(b *testing.B) {
	ctx := context.Background()
	ts := httptest.NewUnstartedServer(nil)
	cfg, err := config.Load([]string{"--addr", ts.Listener.Addr().String(), "--data-dir", b.TempDir(),
		"--rate-reads", "0", "--rate-writes", "0", "--rate-search", "0"}, func(string) string { return "" })
	require.NoError(b, err)
	sys, err := wiring.Build(ctx, cfg, slog.New(slog.DiscardHandler))
	require.NoError(b, err)
	b.Cleanup(func() { _ = sys.Close() })
	ts.Config.Handler = sys.Handler()
	ts.Start()
	b.Cleanup(ts.Close)

	read := func(name, field string) []string {
		f, err := os.Open(filepath.Join("..", "..", "testdata", "conv", name))
		require.NoError(b, err)
		defer f.Close()
		var out []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var m map[string]any
			require.NoError(b, json.Unmarshal(sc.Bytes(), &m))
			out = append(out, m[field].(string))
		}
		return out
	}
	turns, questions := read("memories.jsonl", "text"), read("queries.jsonl", "query")
	p := domain.Principal{OrgID: "bench", UserID: "bench", Scopes: domain.DefaultUserScopes}
	for _, text := range turns[:1000] {
		_, _, err := sys.Memories.Add(ctx, p, app.AddInput{Text: text})
		require.NoError(b, err)
	}
	tok, err := sys.MintLocal(jwtauth.Claims{Subject: "bench", OrgID: "bench"})
	require.NoError(b, err)
	bodies := make([][]byte, len(questions))
	for _, mode := range []domain.SearchMode{domain.SearchHybrid, domain.SearchLexical, domain.SearchVector} {
		for i, q := range questions {
			bodies[i], err = json.Marshal(map[string]any{"query": q, "limit": 10, "mode": mode})
			require.NoError(b, err)
		}
		b.Run(string(mode), func(b *testing.B) {
			i := 0
			measureLatency(b, func() {
				req, err := http.NewRequest(http.MethodPost, cfg.PublicURL+"/api/v1/search", bytes.NewReader(bodies[i%len(bodies)]))
				if err != nil {
					b.Fatal(err)
				}
				i++
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				var page struct {
					Results []json.RawMessage `json:"results"`
				}
				err = json.NewDecoder(resp.Body).Decode(&page)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK || len(page.Results) == 0 {
					b.Fatalf("status %d, %d results: %v", resp.StatusCode, len(page.Results), err)
				}
			})
		})
	}
}
