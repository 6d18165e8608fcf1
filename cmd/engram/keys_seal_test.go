package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/keywrap"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// TestKeysSealSealsPlaintextRows is issue 16's gap for stores that predate
// encryption: rows written with encryption off are plaintext, so erasure's
// crypto-shredding did not reach backups of them. `engram keys seal` seals
// them in place: afterwards no sealable column of the store holds the
// words (memory text and metadata values, history snapshots, query log),
// the plain content hash is replaced by the keyed one, the API still reads
// plaintext, a second run changes nothing, and a backup taken after the
// seal and before alice's erasure restores none of her rows once her data
// key is destroyed.
func TestKeysSealSealsPlaintextRows(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		store := []string{"--data-dir", dir}
		sealPlaintextCase(t, store, func(t *testing.T) *sql.DB {
			db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "engram.db")+"?mode=ro")
			require.NoError(t, err)
			return db
		}, func(t *testing.T, notIndexed []string) {
			// Words the text index does not hold (the replaced text, the
			// query) are gone from the file's bytes too: secure_delete and
			// the command's compaction leave no old page behind.
			raw := sqliteBytes(t, dir)
			for _, w := range notIndexed {
				requireAbsent(t, raw, w, "the SQLite file and WAL hold the words only sealed")
			}
		}, func(t *testing.T) []string {
			target := t.TempDir()
			copyFile(t, filepath.Join(dir, keywrap.FileName), filepath.Join(target, keywrap.FileName))
			return []string{"--data-dir", target}
		})
	})
	t.Run("postgres", func(t *testing.T) {
		dir := t.TempDir()
		pg := canarySchemaURL(t)
		store := []string{"--data-dir", dir, "--postgres-url", pg}
		sealPlaintextCase(t, store, func(t *testing.T) *sql.DB {
			db, err := sql.Open("postgres", pg)
			require.NoError(t, err)
			return db
		}, func(t *testing.T, notIndexed []string) {
			dump := pgDump(t, pg)
			for _, w := range notIndexed {
				require.NotContains(t, dump, w, "a dump of the schema holds the words only sealed")
			}
		}, func(t *testing.T) []string {
			return []string{"--data-dir", dir, "--postgres-url", canarySchemaURL(t)}
		})
	})
}

// sealedWords are one user's distinctive words, one per place it is
// written: the replaced text (history only), the current text, a metadata
// value and a search query.
type sealedWords struct{ old, text, meta, query string }

func newSealedWords(who string) sealedWords {
	return sealedWords{old: who + "old" + randomHex(6), text: who + "text" + randomHex(6), meta: who + "meta" + randomHex(6), query: who + "query" + randomHex(6)}
}

func (w sealedWords) all() []string { return []string{w.old, w.text, w.meta, w.query} }

// sealableRows is every value of the columns a store seals, and the
// content hash, as raw text read with plain SQL (no key, no store code):
// what a dump or a backup of those tables carries. ORDER BY makes two reads
// of an unchanged store equal.
func sealableRows(t *testing.T, open func(*testing.T) *sql.DB) string {
	t.Helper()
	db := open(t)
	defer db.Close()
	q := `SELECT v FROM (
		SELECT id AS k, text || ' ' || metadata || ' ' || content_hash AS v FROM memories
		UNION ALL SELECT CAST(seq AS TEXT), coalesce(old_values, '') || ' ' || coalesce(new_values, '') FROM memory_changes
		UNION ALL SELECT id, query FROM query_logs) ORDER BY k, v`
	if db.Driver() != nil && strings.Contains(strings.ToLower(typeName(db.Driver())), "pq") {
		q = `SELECT v FROM (
			SELECT m.id::text AS k, m::text AS v FROM memories m
			UNION ALL SELECT c.seq::text, c::text FROM memory_changes c
			UNION ALL SELECT q.id::text, q::text FROM query_logs q) x ORDER BY k, v`
	}
	rows, err := db.Query(q)
	require.NoError(t, err)
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var v string
		require.NoError(t, rows.Scan(&v))
		b.WriteString(v + "\n")
	}
	require.NoError(t, rows.Err())
	return b.String()
}

// encryptionEnv is an environment that sets ENGRAM_ENCRYPTION only.
func encryptionEnv(v string) func(string) string {
	return func(k string) string {
		if k == "ENGRAM_ENCRYPTION" {
			return v
		}
		return ""
	}
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }

func sealPlaintextCase(t *testing.T, store []string, plainDB func(*testing.T) *sql.DB, afterSeal func(*testing.T, []string), restoreTarget func(*testing.T) []string) {
	ctx := context.Background()
	words := map[string]sealedWords{"alice": newSealedWords("alice"), "bob": newSealedWords("bob")}

	// Before encryption: every value is written plaintext.
	p, _ := canarySystem(t, append([]string{"--encryption", "off"}, store...)...)
	for _, user := range []string{"alice", "bob"} {
		w, tok := words[user], p.token(t, "acme", user)
		status, m, _ := p.do(t, tok, http.MethodPost, "/api/v1/memories", `{"text":"first note on `+w.old+`","metadata":{"about":"`+w.meta+`","n":1}}`)
		require.Equal(t, http.StatusCreated, status)
		status, _, _ = p.do(t, tok, http.MethodPatch, "/api/v1/memories/"+m["id"].(string), `{"text":"second note on `+w.text+`","metadata":{"about":"`+w.meta+`","n":2}}`)
		require.Equal(t, http.StatusOK, status)
		status, _, _ = p.do(t, tok, http.MethodPost, "/api/v1/memories", `{"text":"third note on `+w.text+`"}`)
		require.Equal(t, http.StatusCreated, status)
		status, _, _ = p.do(t, tok, http.MethodPost, "/api/v1/search", `{"query":"what did I say about `+w.query+`"}`)
		require.Equal(t, http.StatusOK, status)
	}
	require.NoError(t, p.close())
	db := plainDB
	before := sealableRows(t, db)
	for _, w := range words {
		for _, word := range w.all() {
			require.Contains(t, before, word, "written plaintext while encryption was off")
		}
	}
	plainHash := domain.ContentHash("third note on " + words["alice"].text)
	require.Contains(t, before, plainHash, "with the plain content hash")

	// Without a key-encryption key the command refuses.
	var out bytes.Buffer
	err := runKeys(ctx, append([]string{"seal"}, store...), encryptionEnv("off"), &out, &out)
	require.ErrorContains(t, err, "no key-encryption key")

	out.Reset()
	require.NoError(t, runKeys(ctx, append([]string{"seal", "--batch", "2"}, store...), encryptionEnv("on"), &out, &out), out.String())
	require.Contains(t, out.String(), "memories: 4 rows read, 4 sealed", out.String())
	require.Contains(t, out.String(), "memory_changes: 6 rows read, 6 sealed", out.String())
	require.Contains(t, out.String(), "query_logs: 2 rows read, 2 sealed", out.String())
	after := sealableRows(t, db)
	for _, w := range words {
		for _, word := range w.all() {
			require.NotContains(t, after, word, "no sealable column holds a plaintext word")
		}
	}
	require.NotContains(t, after, plainHash, "the content hash is keyed")
	afterSeal(t, []string{words["alice"].old, words["alice"].query, words["bob"].old, words["bob"].query})

	// A second run finds nothing left to seal and writes nothing.
	out.Reset()
	require.NoError(t, runKeys(ctx, append([]string{"seal"}, store...), encryptionEnv("on"), &out, &out), out.String())
	require.Contains(t, out.String(), "memories: 4 rows read, 0 sealed", out.String())
	require.Contains(t, out.String(), "memory_changes: 6 rows read, 0 sealed", out.String())
	require.Contains(t, out.String(), "query_logs: 2 rows read, 0 sealed", out.String())
	require.Equal(t, after, sealableRows(t, db), "the second run rewrote nothing")

	// Readers get the plaintext back.
	p, _ = canarySystem(t, append([]string{"--encryption", "on"}, store...)...)
	alice, bob := p.token(t, "acme", "alice"), p.token(t, "acme", "bob")
	for user, tok := range map[string]string{"alice": alice, "bob": bob} {
		w := words[user]
		list := p.raw(t, tok, "/api/v1/memories")
		require.Contains(t, list, "second note on "+w.text)
		require.Contains(t, list, "third note on "+w.text)
		require.Contains(t, list, `"about":"`+w.meta+`"`)
		var page struct {
			Items []struct {
				ID   string `json:"id"`
				Text string `json:"text"`
			} `json:"items"`
		}
		require.NoError(t, json.Unmarshal([]byte(list), &page))
		for _, m := range page.Items {
			if strings.HasPrefix(m.Text, "second") {
				hist := p.raw(t, tok, "/api/v1/memories/"+m.ID+"/history")
				require.Contains(t, hist, "first note on "+w.old, "history snapshots open")
			}
		}
		// An exact duplicate written now (keyed hash) is found against the
		// sealed row: 200 and the existing memory, not 201.
		status, _, _ := p.do(t, tok, http.MethodPost, "/api/v1/memories", `{"text":"third note on `+w.text+`"}`)
		require.Equal(t, http.StatusOK, status, "an exact duplicate of a sealed row is detected: its hash is the keyed one")
	}

	// A backup taken now holds the words only sealed; after alice's
	// erasure it restores none of her rows.
	backup := filepath.Join(t.TempDir(), "before.engram")
	out.Reset()
	require.NoError(t, runBackup(ctx, append([]string{"-o", backup}, store...), noEnv, &out, &out), out.String())
	members := archiveMembers(t, backup)
	for _, w := range words {
		for _, word := range w.all() {
			requireAbsent(t, members, word, "the backup holds the words only sealed")
		}
	}
	eraseAndWait(t, p, alice)
	keys := filepath.Join(t.TempDir(), "keys.jsonl")
	out.Reset()
	require.NoError(t, runKeys(ctx, append([]string{"export", keys}, store...), noEnv, &out, &out), out.String())
	raw, err := os.ReadFile(keys)
	require.NoError(t, err)
	var held []string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var k ports.WrappedKey
		require.NoError(t, json.Unmarshal([]byte(line), &k))
		held = append(held, string(k.UserID))
	}
	require.Equal(t, []string{"bob"}, held, "alice's data key is destroyed")

	target := restoreTarget(t)
	out.Reset()
	require.NoError(t, runRestore(ctx, append([]string{backup, "--keys", keys}, target...), noEnv, &out, &out), out.String())
	cfg, err := config.Load(append([]string{"--encryption", "on"}, target...), noEnv)
	require.NoError(t, err)
	b, err := wiring.OpenStore(ctx, cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer b.Close()
	all := []domain.State{domain.StateActive, domain.StatePaused, domain.StateArchived, domain.StateDeleted}
	page, err := b.Memories.List(ctx, domain.Tenant{OrgID: "acme", UserID: "bob"}, domain.ListQuery{Limit: 10, States: all})
	require.NoError(t, err)
	require.Len(t, page.Items, 2, "bob's sealed rows restore")
	for _, m := range page.Items {
		require.Contains(t, m.Text, words["bob"].text, "and open")
	}
	page, err = b.Memories.List(ctx, domain.Tenant{OrgID: "acme", UserID: "alice"}, domain.ListQuery{Limit: 10, States: all})
	require.NoError(t, err)
	require.Empty(t, page.Items, "alice's rows, sealed by the command, do not open in the pre-erasure backup")
}
