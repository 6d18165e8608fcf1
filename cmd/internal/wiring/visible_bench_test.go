package wiring

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"testing"
	"time"

	_ "github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/domain"
)

// BenchmarkWriteToVisible measures how long a memory written through one
// serving process takes to be the top vector-search hit through another
// process on the same store: two Systems, each with its own connections,
// change feed and in-process vector index (SQLite: one data dir, polled;
// PostgreSQL: one schema, LISTEN/NOTIFY). It reports p50 and p99.
//
//	go test -run '^$' -bench WriteToVisible -benchtime 200x ./cmd/internal/wiring/
func BenchmarkWriteToVisible(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		dir := b.TempDir()
		benchVisible(b, map[string]string{"ENGRAM_DATA_DIR": dir}, map[string]string{"ENGRAM_DATA_DIR": dir})
	})
	b.Run("postgres", func(b *testing.B) {
		pg := benchSchema(b)
		dir := b.TempDir()
		env := map[string]string{"ENGRAM_DATA_DIR": dir, "ENGRAM_POSTGRES_URL": pg}
		benchVisible(b, env, env)
	})
}

func benchVisible(b *testing.B, writerEnv, readerEnv map[string]string) {
	ctx := context.Background()
	build := func(env map[string]string) (*System, string) {
		srv := httptest.NewUnstartedServer(nil)
		env["ENGRAM_ADDR"] = srv.Listener.Addr().String()
		env["ENGRAM_RATE_READS"], env["ENGRAM_RATE_WRITES"], env["ENGRAM_RATE_SEARCH"] = "0", "0", "0"
		cfg, err := config.Load(nil, func(k string) string { return env[k] })
		require.NoError(b, err)
		sys, err := Build(ctx, cfg, quiet)
		require.NoError(b, err)
		b.Cleanup(func() { _ = sys.Close() })
		srv.Config.Handler = sys.Handler()
		srv.Start()
		b.Cleanup(srv.Close)
		return sys, srv.URL
	}
	writer, _ := build(writerEnv)
	reader, readerURL := build(readerEnv)
	tok, err := reader.MintLocal(jwtauth.Claims{Subject: "bench", OrgID: "bench", TTL: time.Hour})
	require.NoError(b, err)
	p := domain.Principal{OrgID: "bench", UserID: "bench", Scopes: domain.DefaultUserScopes, ClientID: "bench"}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		text := fmt.Sprintf("benchmark memory %d about topic %x", i, i*7919)
		m, _, err := writer.Memories.Add(ctx, p, app.AddInput{Text: text})
		require.NoError(b, err)
		start := time.Now()
		for {
			if topHit(b, readerURL, tok, text) == string(m.ID) {
				break
			}
			if time.Since(start) > 10*time.Second {
				b.Fatalf("memory %d not visible after 10 s", i)
			}
			time.Sleep(2 * time.Millisecond)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1e3, "p50_ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1e3, "p99_ms")
}

func topHit(b *testing.B, base, tok, query string) string {
	body, _ := json.Marshal(map[string]any{"query": query, "mode": "vector", "limit": 1})
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/search", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b, err)
	defer resp.Body.Close()
	var out struct {
		Results []struct {
			Memory struct {
				ID string `json:"id"`
			} `json:"memory"`
		} `json:"results"`
	}
	require.NoError(b, json.NewDecoder(resp.Body).Decode(&out))
	if len(out.Results) == 0 {
		return ""
	}
	return out.Results[0].Memory.ID
}

// benchSchema is a fresh schema on ENGRAM_TEST_POSTGRES_URL, dropped after.
func benchSchema(b *testing.B) string {
	base := os.Getenv("ENGRAM_TEST_POSTGRES_URL")
	if base == "" {
		b.Skip("set ENGRAM_TEST_POSTGRES_URL to measure the PostgreSQL profile")
	}
	db, err := sql.Open("postgres", base)
	require.NoError(b, err)
	b.Cleanup(func() { db.Close() })
	var r [6]byte
	_, _ = rand.Read(r[:])
	schema := "engram_bench_" + hex.EncodeToString(r[:])
	_, err = db.Exec(`CREATE SCHEMA ` + schema)
	require.NoError(b, err)
	b.Cleanup(func() { _, _ = db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
	u, err := url.Parse(base)
	require.NoError(b, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
