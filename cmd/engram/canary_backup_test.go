package main

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
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

// TestCanaryPreErasureBackupIsShredded is the backup half of issue 16's
// "done when", with encryption at rest on: a backup taken before alice's
// erasure holds her memory text, history and search queries only sealed (no
// plaintext of the words), and after the erasure destroyed her data key
// nothing opens them: restoring that backup with the instance's data keys
// (exported after the erasure) brings back none of her memories, while
// bob's come back and read. Metadata values and categories are not sealed
// yet (docs/privacy.md, "Not done yet"), so the check uses words written
// only as memory text and queries.
func TestCanaryPreErasureBackupIsShredded(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		shreddedBackup(t, []string{"--data-dir", dir}, func(t *testing.T) []string {
			target := t.TempDir()
			copyFile(t, filepath.Join(dir, keywrap.FileName), filepath.Join(target, keywrap.FileName)) // the same KEK
			return []string{"--data-dir", target}
		})
	})
	t.Run("postgres", func(t *testing.T) {
		dir := t.TempDir()
		shreddedBackup(t, []string{"--data-dir", dir, "--postgres-url", canarySchemaURL(t)}, func(t *testing.T) []string {
			return []string{"--data-dir", dir, "--postgres-url", canarySchemaURL(t)}
		})
	})
}

func shreddedBackup(t *testing.T, store []string, restoreTarget func(*testing.T) []string) {
	ctx := context.Background()
	p, logs := canarySystem(t, append([]string{"--encryption", "on"}, store...)...)
	word, other := "shredme"+randomHex(8), "keepme"+randomHex(8)
	alice, bob := p.token(t, "acme", "alice"), p.token(t, "acme", "bob")
	for _, tok := range []string{alice, bob} {
		w := map[string]string{alice: word, bob: other}[tok]
		// The word is a metadata value too, sealed like the text.
		status, m, _ := p.do(t, tok, http.MethodPost, "/api/v1/memories", `{"text":"first note on `+w+`","metadata":{"about":"meta on `+w+`","n":1}}`)
		require.Equal(t, http.StatusCreated, status)
		status, _, _ = p.do(t, tok, http.MethodPatch, "/api/v1/memories/"+m["id"].(string), `{"text":"second note on `+w+`","metadata":{"about":"new meta on `+w+`","n":2}}`)
		require.Equal(t, http.StatusOK, status)
		status, _, _ = p.do(t, tok, http.MethodPost, "/api/v1/memories", `{"text":"third note on `+w+`"}`)
		require.Equal(t, http.StatusCreated, status)
		// The search's words go to the query log, sealed too.
		status, _, _ = p.do(t, tok, http.MethodPost, "/api/v1/search", `{"query":"what did I note about `+w+` lately"}`)
		require.Equal(t, http.StatusOK, status)
	}
	require.Equal(t, 2, p.count(t, alice))
	// Search filters on sealed metadata: an expression (the store opens
	// and evaluates sealed rows) and an exact value (the text index's own
	// copy, rechecked on the opened memory).
	for _, body := range []string{
		`{"query":"note","filters":{"metadata":{"about":{"icontains":"NEW META ON"}}}}`,
		`{"query":"note","metadata":{"about":"new meta on ` + word + `"}}`,
	} {
		status, res, _ := p.do(t, alice, http.MethodPost, "/api/v1/search", body)
		require.Equal(t, http.StatusOK, status, body)
		hits, _ := res["results"].([]any)
		require.Len(t, hits, 1, body)
		require.Equal(t, "new meta on "+word, hits[0].(map[string]any)["memory"].(map[string]any)["metadata"].(map[string]any)["about"], body)
	}

	backup := filepath.Join(t.TempDir(), "before.engram")
	var out bytes.Buffer
	require.NoError(t, runBackup(ctx, append([]string{"-o", backup}, store...), noEnv, &out, &out), out.String())
	members := archiveMembers(t, backup)
	requireAbsent(t, members, word, "the backup holds alice's memory text and metadata values, history and query log only sealed")
	requireAbsent(t, members, other, "and bob's")
	requirePresent(t, members, `\u001bengram:v1:`, "the backup carries the sealed values (ESC escaped in JSON)")

	// The caller's own archive (GET /api/v1/export) is theirs to read:
	// plaintext, every sealed value opened (docs/archive.md), and only theirs.
	own := p.token(t, "acme", "alice", append(append([]domain.Scope{}, domain.DefaultUserScopes...), domain.ScopeBackupRead)...)
	exported := filepath.Join(t.TempDir(), "own.engram")
	require.NoError(t, os.WriteFile(exported, []byte(p.raw(t, own, "/api/v1/export")), 0o600))
	ownMembers := archiveMembers(t, exported)
	requireAbsent(t, ownMembers, `\u001bengram:v1:`, "the caller's own export holds no sealed value")
	requireAbsent(t, ownMembers, other, "nor bob's words")
	for _, m := range []string{"memories.jsonl.gz", "memory_history.jsonl.gz", "query_logs.jsonl.gz"} {
		require.Contains(t, string(ownMembers[m]), word, "%s of the caller's own export is plaintext", m)
	}
	require.Contains(t, string(ownMembers["memory_history.jsonl.gz"]), "first note on "+word, "history snapshots opened too")
	require.Contains(t, string(ownMembers["memory_history.jsonl.gz"]), `"about":"meta on `+word, "their metadata values too")
	require.Contains(t, string(ownMembers["memories.jsonl.gz"]), `"about":"new meta on `+word, "and the memories' metadata values")

	eraseAndWait(t, p, alice)
	require.NotContains(t, logs.String(), word)

	// The instance's data keys after the erasure: bob's, not alice's.
	keys := filepath.Join(t.TempDir(), "keys.jsonl")
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

	// Restore the pre-erasure backup into an empty store with those keys.
	target := restoreTarget(t)
	out.Reset()
	require.NoError(t, runRestore(ctx, append([]string{backup, "--keys", keys}, target...), noEnv, &out, &out), out.String())
	cfg, err := config.Load(append([]string{"--encryption", "on"}, target...), noEnv)
	require.NoError(t, err)
	b, err := wiring.OpenStore(ctx, cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer b.Close()
	page, err := b.Memories.List(ctx, domain.Tenant{OrgID: "acme", UserID: "bob"}, domain.ListQuery{Limit: 10})
	require.NoError(t, err)
	require.Len(t, page.Items, 2, "bob's memories restore")
	for _, m := range page.Items {
		require.Contains(t, m.Text, other, "and decrypt")
		hist, err := b.Memories.History(ctx, m.Tenant(), m.ID)
		require.NoError(t, err)
		require.Contains(t, hist[0].New.Text, "note on "+other)
	}
	// Bob's sealed metadata opens and filters after the restore.
	page, err = b.Memories.List(ctx, domain.Tenant{OrgID: "acme", UserID: "bob"}, domain.ListQuery{Limit: 10, Metadata: domain.Metadata{"about": "new meta on " + other}})
	require.NoError(t, err)
	require.Len(t, page.Items, 1, "a metadata filter selects bob's restored sealed row")
	require.Equal(t, domain.Metadata{"about": "new meta on " + other, "n": 2.0}, page.Items[0].Metadata)
	page, err = b.Memories.List(ctx, domain.Tenant{OrgID: "acme", UserID: "alice"}, domain.ListQuery{Limit: 10, States: []domain.State{domain.StateActive, domain.StatePaused, domain.StateArchived, domain.StateDeleted}})
	require.NoError(t, err)
	require.Empty(t, page.Items, "alice's sealed memories in the old backup open with no key: none comes back")
}

// archiveMembers is every member of an archive file, decompressed.
func archiveMembers(t *testing.T, path string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	require.NoError(t, err)
	defer zr.Close()
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		rc.Close()
		if gz, err := gzip.NewReader(bytes.NewReader(b)); err == nil {
			if plain, err := io.ReadAll(gz); err == nil {
				b = plain
			}
		}
		out[f.Name] = b
	}
	return out
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, b, 0o600))
}
