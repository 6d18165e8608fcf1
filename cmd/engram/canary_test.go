package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	_ "github.com/lib/pq"
	"github.com/stretchr/testify/require"
	"github.com/valkey-io/valkey-go"

	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/contracttest"
)

// syncBuffer is a log sink the server writes from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// canarySystem is engramd's whole stack over args, logging at debug level
// into a buffer the canary test searches too.
func canarySystem(t *testing.T, args ...string) (*privacySystem, *syncBuffer) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	cfg, err := config.Load(append([]string{"--addr", ts.Listener.Addr().String()}, args...), noEnv)
	require.NoError(t, err)
	logs := &syncBuffer{}
	sys, err := wiring.Build(context.Background(), cfg, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	require.NoError(t, err)
	ts.Config.Handler = sys.Handler()
	ts.Start()
	var once sync.Once
	t.Cleanup(func() { ts.Close(); once.Do(func() { _ = sys.Close() }) })
	return &privacySystem{sys: sys, url: ts.URL, close: func() error {
		var err error
		once.Do(func() { err = sys.Close() })
		return err
	}}, logs
}

// requireAbsent fails naming each file and offset where word occurs, with
// a little context, never dumping the whole database.
func requireAbsent(t *testing.T, files map[string][]byte, word, why string) {
	t.Helper()
	var where []string
	for name, b := range files {
		for off := 0; ; {
			i := bytes.Index(b[off:], []byte(word))
			if i < 0 {
				break
			}
			at := off + i
			lo, hi := max(0, at-60), min(len(b), at+len(word)+60)
			where = append(where, fmt.Sprintf("%s@%d: %q", name, at, b[lo:hi]))
			off = at + len(word)
		}
	}
	require.Empty(t, where, why)
}

func requirePresent(t *testing.T, files map[string][]byte, word, why string) {
	t.Helper()
	for _, b := range files {
		if bytes.Contains(b, []byte(word)) {
			return
		}
	}
	t.Fatalf("%s: %s not found", why, word)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// writeEverywhere writes word through every surface a user reaches: REST
// add (with an idempotency key, whose record echoes the response) and
// update (history keeps the old text), a metadata value, MCP, a session
// event, a search (the query log) with feedback on it. It returns how many
// memories the user holds.
func writeEverywhere(t *testing.T, p *privacySystem, tok, word string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, p.url+"/api/v1/memories",
		strings.NewReader(`{"text":"my secret is `+word+` indeed","metadata":{"note":"`+word+` in metadata"},"categories":["`+word+`"]}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "canary-"+word)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusCreated, res.StatusCode, string(raw))
	status, m, _ := p.do(t, tok, http.MethodPost, "/api/v1/memories", `{"text":"second note about `+word+`"}`)
	require.Equal(t, http.StatusCreated, status)
	status, _, _ = p.do(t, tok, http.MethodPatch, "/api/v1/memories/"+m["id"].(string), `{"text":"updated note about `+word+` too"}`)
	require.Equal(t, http.StatusOK, status)

	// MCP: initialize, then call add_memories in that session.
	mcp := func(sid, body string) (string, int) {
		req, err := http.NewRequest(http.MethodPost, p.url+"/mcp", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if sid != "" {
			req.Header.Set("Mcp-Session-Id", sid)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		out, _ := io.ReadAll(res.Body)
		res.Body.Close()
		require.Less(t, res.StatusCode, 300, string(out))
		return res.Header.Get("Mcp-Session-Id"), res.StatusCode
	}
	sid, _ := mcp("", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"canary","version":"1"}}}`)
	mcp(sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	mcp(sid, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add_memories","arguments":{"text":"told over mcp: `+word+`"}}}`)

	status, _, _ = p.do(t, tok, http.MethodPost, "/api/v1/sessions/s-"+word[:8]+"/events", `{"role":"user","text":"in the session I said `+word+`"}`)
	require.Equal(t, http.StatusCreated, status)
	status, res2, _ := p.do(t, tok, http.MethodPost, "/api/v1/search", `{"query":"what is `+word+`"}`)
	require.Equal(t, http.StatusOK, status)
	qid := res2["query_id"].(string)
	status, _, _ = p.do(t, tok, http.MethodPost, "/api/v1/feedback", `{"query_id":"`+qid+`","outcome":"accepted"}`)
	require.Less(t, status, 300)
	return p.count(t, tok)
}

// TestCanaryErasedFromEveryStore is issue 16's "done when": a distinctive
// word written through every surface is, after the subject's erasure,
// nowhere: not in the SQLite file or its WAL, not in a plain-text dump of
// PostgreSQL, not in any Valkey key or value, not in the text and vector
// indexes, not in the logs; another user's word is still everywhere it was.
// Backups taken before the erasure are TestCanaryPreErasureBackupIsShredded's
// (encryption at rest on): there the erased user's sealed text no longer
// opens and restores, another user's does.
func TestCanaryErasedFromEveryStore(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		p, logs := canarySystem(t, "--data-dir", dir)
		canary, other := "canary"+randomHex(8), "sentinel"+randomHex(8)
		alice, bob := p.token(t, "acme", "alice"), p.token(t, "acme", "bob")
		n := writeEverywhere(t, p, alice, canary)
		require.Equal(t, 3, n)
		require.Equal(t, 3, writeEverywhere(t, p, bob, other))

		eraseAndWait(t, p, alice)
		require.NoError(t, p.close(), "closing checkpoints the WAL")
		raw := sqliteBytes(t, dir)
		requireAbsent(t, raw, canary, "the SQLite file and WAL hold no byte of the erased words")
		requirePresent(t, raw, other, "another user's words stay")
		require.NotContains(t, logs.String(), canary, "nor do the logs")
	})
	t.Run("sqlite-open", func(t *testing.T) {
		// The same, read while the server still runs: the WAL not yet
		// checkpointed.
		dir := t.TempDir()
		p, _ := canarySystem(t, "--data-dir", dir)
		canary, other := "canary"+randomHex(8), "sentinel"+randomHex(8)
		alice, bob := p.token(t, "acme", "alice"), p.token(t, "acme", "bob")
		writeEverywhere(t, p, alice, canary)
		writeEverywhere(t, p, bob, other)
		eraseAndWait(t, p, alice)
		raw := sqliteBytes(t, dir)
		requireAbsent(t, raw, canary, "the open database and its WAL hold no byte of the erased words")
		requirePresent(t, raw, other, "another user's words stay")
		require.Equal(t, 3, p.count(t, bob))
		status, _, _ := p.do(t, bob, http.MethodGet, "/api/v1/sessions/s-"+other[:8]+"/events", "")
		require.Equal(t, http.StatusOK, status, "bob's session stays")
		status, res, _ := p.do(t, bob, http.MethodPost, "/api/v1/search", `{"query":"`+other+`"}`)
		require.Equal(t, http.StatusOK, status)
		require.NotEmpty(t, res["results"], "bob's memories are still indexed")
	})
	t.Run("postgres-valkey", func(t *testing.T) {
		pg := canarySchemaURL(t)
		addr := contracttest.BackendAddr(t, contracttest.Valkey)
		prefix := "canary" + randomHex(4)
		p, logs := canarySystem(t, "--data-dir", t.TempDir(), "--postgres-url", pg, "--valkey-url", "redis://"+addr, "--valkey-prefix", prefix)
		canary, other := "canary"+randomHex(8), "sentinel"+randomHex(8)
		alice, bob := p.token(t, "acme", "alice"), p.token(t, "acme", "bob")
		writeEverywhere(t, p, alice, canary)
		writeEverywhere(t, p, bob, other)
		require.Contains(t, pgDump(t, pg), canary, "the dump sees what was written")
		require.Contains(t, valkeyDump(t, addr, prefix), canary, "and so does the Valkey scan")

		eraseAndWait(t, p, alice)
		dump := pgDump(t, pg)
		require.NotContains(t, dump, canary, "no row of PostgreSQL holds the erased words")
		require.Contains(t, dump, other)
		kv := valkeyDump(t, addr, prefix)
		require.NotContains(t, kv, canary, "no Valkey key or value holds them")
		require.Contains(t, kv, other, "bob's session stays")
		require.NotContains(t, logs.String(), canary)
		require.Equal(t, 3, p.count(t, bob))
	})
}

func eraseAndWait(t *testing.T, p *privacySystem, tok string) {
	t.Helper()
	status, job, _ := p.do(t, tok, http.MethodDelete, "/api/v1/me", "")
	require.Equal(t, http.StatusAccepted, status)
	require.NoError(t, p.sys.Privacy.RunPending(context.Background()))
	status, job, _ = p.do(t, tok, http.MethodGet, "/api/v1/erasures/"+job["id"].(string), "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "done", job["status"])
	require.Zero(t, p.count(t, tok))
}

// sqliteBytes is every file of the data directory's database (the main
// file, its WAL and shared-memory index) as one string.
func sqliteBytes(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	all := map[string][]byte{}
	files, err := filepath.Glob(filepath.Join(dir, "*.db*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		all[filepath.Base(f)] = b
	}
	return all
}

// canarySchemaURL creates a fresh schema and returns the server URL
// pinned to it.
func canarySchemaURL(t *testing.T) string {
	t.Helper()
	base := contracttest.BackendAddr(t, contracttest.Postgres)
	db, err := sql.Open("postgres", base)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	schema := "canary_" + randomHex(6)
	_, err = db.Exec(`CREATE SCHEMA ` + schema)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// pgDump is a plain-text dump of every row of the URL's schema: pg_dump
// --data-only when it is installed, else each table's rows as text.
func pgDump(t *testing.T, pg string) string {
	t.Helper()
	u, err := url.Parse(pg)
	require.NoError(t, err)
	schema := u.Query().Get("search_path")
	if bin, err := exec.LookPath("pg_dump"); err == nil {
		base := *u
		q := base.Query()
		q.Del("search_path")
		base.RawQuery = q.Encode()
		out, err := exec.Command(bin, "--data-only", "--schema="+schema, "--dbname="+base.String()).Output()
		require.NoError(t, err)
		return string(out)
	}
	db, err := sql.Open("postgres", pg)
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.Query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, schema)
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		tables = append(tables, name)
	}
	require.NoError(t, rows.Close())
	var b strings.Builder
	for _, tbl := range tables {
		rs, err := db.Query(`SELECT t::text FROM ` + schema + `.` + tbl + ` t`)
		require.NoError(t, err)
		for rs.Next() {
			var line string
			require.NoError(t, rs.Scan(&line))
			b.WriteString(line + "\n")
		}
		require.NoError(t, rs.Close())
	}
	return b.String()
}

// valkeyDump is every key under prefix with its value, whatever its type.
func valkeyDump(t *testing.T, addr, prefix string) string {
	t.Helper()
	c, err := valkey.NewClient(valkey.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	require.NoError(t, err)
	defer c.Close()
	ctx := context.Background()
	var b strings.Builder
	var cursor uint64
	for {
		e, err := c.Do(ctx, c.B().Scan().Cursor(cursor).Match(prefix+"*").Count(1000).Build()).AsScanEntry()
		require.NoError(t, err)
		for _, k := range e.Elements {
			b.WriteString(k + "\n")
			typ, err := c.Do(ctx, c.B().Type().Key(k).Build()).ToString()
			require.NoError(t, err)
			var vals []string
			switch typ {
			case "none":
				// Expired between SCAN and TYPE (a rate-limit window's
				// counter): it holds nothing any more.
			case "string":
				v, err := c.Do(ctx, c.B().Get().Key(k).Build()).ToString()
				if valkey.IsValkeyNil(err) {
					break // expired between TYPE and GET
				}
				require.NoError(t, err)
				vals = []string{v}
			case "list":
				vals, err = c.Do(ctx, c.B().Lrange().Key(k).Start(0).Stop(-1).Build()).AsStrSlice()
			case "hash":
				var m map[string]string
				m, err = c.Do(ctx, c.B().Hgetall().Key(k).Build()).AsStrMap()
				for f, v := range m {
					vals = append(vals, f, v)
				}
			case "set":
				vals, err = c.Do(ctx, c.B().Smembers().Key(k).Build()).AsStrSlice()
			case "zset":
				vals, err = c.Do(ctx, c.B().Zrange().Key(k).Min("0").Max("-1").Build()).AsStrSlice()
			case "stream":
				var xs []valkey.XRangeEntry
				xs, err = c.Do(ctx, c.B().Xrange().Key(k).Start("-").End("+").Build()).AsXRange()
				for _, x := range xs {
					for f, v := range x.FieldValues {
						vals = append(vals, f, v)
					}
				}
			default:
				t.Fatalf("key %s has type %s, which the canary scan does not read", k, typ)
			}
			require.NoError(t, err)
			b.WriteString(strings.Join(vals, "\n") + "\n")
		}
		if e.Cursor == 0 {
			break
		}
		cursor = e.Cursor
	}
	return b.String()
}
