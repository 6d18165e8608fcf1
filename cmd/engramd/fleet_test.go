package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/contracttest"
)

// convergeWithin is the promise, a write through one engramd found by
// vector search through every other within a second, with room for a
// loaded CI machine before the test fails; it logs what it measured.
const convergeWithin = 2 * time.Second

// TestFleetOnOnePostgresConverges runs three engramd on one PostgreSQL
// schema and one Valkey, as a fleet behind a load balancer would. Each keeps
// its own in-process vector index; a memory written through any of them must
// be found by vector search through every one, which only the store's change
// feed (LISTEN/NOTIFY) can bring about.
func TestFleetOnOnePostgresConverges(t *testing.T) {
	pg := pgSchemaURL(t)
	valkey := contracttest.BackendAddr(t, contracttest.Valkey)
	if !strings.Contains(valkey, "://") {
		valkey = "redis://" + valkey
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	dir := t.TempDir() // shared: the local signing key, so one token serves all three
	var bases []string
	for range 3 {
		base, _, _ := startEngramd(t, map[string]string{
			"ENGRAM_DATA_DIR": dir, "ENGRAM_POSTGRES_URL": pg, "ENGRAM_VALKEY_URL": valkey,
			"ENGRAM_VALKEY_PREFIX": "engram-fleet-" + hex.EncodeToString(b[:]), "ENGRAM_ADMIN_ADDR": "127.0.0.1:0",
		})
		bases = append(bases, base)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "local-token"))
	require.NoError(t, err)
	token := strings.TrimSpace(string(raw))

	texts := []string{"the lighthouse keeper feeds seagulls at dawn", "quantum chess tournament in Reykjavik", "a sourdough starter named Gerald"}
	for i, writer := range bases {
		code, body := do(t, http.MethodPost, writer+"/api/v1/memories", token, fmt.Sprintf(`{"text":%q}`, texts[i]))
		require.Equal(t, http.StatusCreated, code, body)
		var added struct {
			ID string `json:"id"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &added))
		start := time.Now()
		for j, reader := range bases {
			var top string
			for time.Since(start) < convergeWithin {
				if top = topVectorHit(t, reader, token, texts[i]); top == added.ID {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			require.Equal(t, added.ID, top, "engramd %d's vector search must find what engramd %d wrote", j, i)
		}
		t.Logf("written through engramd %d: found by vector search through all three after %s", i, time.Since(start).Round(time.Millisecond))
	}
}

func topVectorHit(t *testing.T, base, token, query string) string {
	t.Helper()
	code, body := do(t, http.MethodPost, base+"/api/v1/search", token, fmt.Sprintf(`{"query":%q,"mode":"vector","limit":1}`, query))
	require.Equal(t, http.StatusOK, code, body)
	var res struct {
		Results []struct {
			Memory struct {
				ID string `json:"id"`
			} `json:"memory"`
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &res))
	if len(res.Results) == 0 {
		return ""
	}
	return res.Results[0].Memory.ID
}
