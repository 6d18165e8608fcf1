package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/contracttest"
)

// closedPort is a loopback address where nothing listens: an index that is
// down, for real.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// TestExternalIndexesDownAtStartServeDegraded: with ENGRAM_QDRANT_URL or
// ENGRAM_ELASTICSEARCH_URL naming a server that is down, engramd still
// starts, writes succeed, /readyz reports the index (without failing), and
// search answers from the other index saying so.
func TestExternalIndexesDownAtStartServeDegraded(t *testing.T) {
	for _, tc := range []struct {
		key, url, check, degraded string
	}{
		{"ENGRAM_QDRANT_URL", "http://" + closedPort(t), "qdrant", "vector"},
		{"ENGRAM_ELASTICSEARCH_URL", "http://" + closedPort(t), "elasticsearch", "lexical"},
	} {
		t.Run(tc.check, func(t *testing.T) {
			dir := t.TempDir()
			base, _, _ := startEngramd(t, map[string]string{"ENGRAM_DATA_DIR": dir, tc.key: tc.url, "ENGRAM_ADMIN_ADDR": "127.0.0.1:0"})
			raw, err := os.ReadFile(filepath.Join(dir, "local-token"))
			require.NoError(t, err)
			token := strings.TrimSpace(string(raw))
			code, body := do(t, http.MethodPost, base+"/api/v1/memories", token, `{"text":"the lighthouse keeper feeds seagulls"}`)
			require.Equal(t, http.StatusCreated, code, body)

			code, body = do(t, http.MethodGet, base+"/readyz", "", "")
			require.Equal(t, http.StatusOK, code, "an index is not required: %s", body)
			require.Contains(t, body, `"`+tc.check+`"`)

			code, body = do(t, http.MethodPost, base+"/api/v1/search", token, `{"query":"lighthouse seagulls"}`)
			require.Equal(t, http.StatusOK, code, body)
			var res struct {
				Results  []json.RawMessage `json:"results"`
				Degraded []string          `json:"degraded"`
			}
			require.NoError(t, json.Unmarshal([]byte(body), &res))
			require.Equal(t, []string{tc.degraded}, res.Degraded)
			require.Len(t, res.Results, 1, "the other index answers")
		})
	}
}

// TestQdrantAndElasticsearchProfileServes starts engramd on the fleet
// profile's external indexes (ENGRAM_QDRANT_URL, ENGRAM_ELASTICSEARCH_URL,
// from ENGRAM_TEST_QDRANT_ADDR and ENGRAM_TEST_ELASTICSEARCH_URL) and uses it
// as a client would: /readyz names both and is ready, a memory added is
// found by vector search (Qdrant) and lexical search (Elasticsearch) once
// the outbox relay applied it, with nothing degraded, and once deleted it is
// gone from both. Without those servers it skips with a SKIP line (the
// test task prints it).
func TestQdrantAndElasticsearchProfileServes(t *testing.T) {
	qdrant := contracttest.BackendAddr(t, contracttest.Qdrant)
	elastic := contracttest.BackendAddr(t, contracttest.Elasticsearch)
	if !strings.Contains(qdrant, "://") {
		qdrant = "http://" + qdrant
	}
	dir := t.TempDir()
	base, _, _ := startEngramd(t, map[string]string{
		"ENGRAM_DATA_DIR": dir, "ENGRAM_ADMIN_ADDR": "off",
		"ENGRAM_QDRANT_URL": qdrant, "ENGRAM_ELASTICSEARCH_URL": elastic,
	})
	raw, err := os.ReadFile(filepath.Join(dir, "local-token"))
	require.NoError(t, err)
	token := strings.TrimSpace(string(raw))

	code, body := do(t, http.MethodGet, base+"/readyz", "", "")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"qdrant"`)
	require.Contains(t, body, `"elasticsearch"`)

	var b [4]byte
	_, _ = rand.Read(b[:])
	word := "zanzibar" + hex.EncodeToString(b[:]) // a run of its own in a shared index
	text := "the lighthouse keeper of " + word + " feeds seagulls at dawn"
	code, body = do(t, http.MethodPost, base+"/api/v1/memories", token, fmt.Sprintf(`{"text":%q}`, text))
	require.Equal(t, http.StatusCreated, code, body)
	var added struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &added))

	found := func(mode string) bool {
		code, body := do(t, http.MethodPost, base+"/api/v1/search", token, fmt.Sprintf(`{"query":%q,"mode":%q,"limit":5}`, text, mode))
		require.Equal(t, http.StatusOK, code, body)
		var res struct {
			Results []struct {
				Memory struct {
					ID string `json:"id"`
				} `json:"memory"`
			} `json:"results"`
			Degraded []string `json:"degraded"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &res))
		require.Empty(t, res.Degraded, "%s search through a healthy index", mode)
		for _, r := range res.Results {
			if r.Memory.ID == added.ID {
				return true
			}
		}
		return false
	}
	for _, mode := range []string{"vector", "lexical"} {
		require.Eventually(t, func() bool { return found(mode) }, 30*time.Second, 100*time.Millisecond,
			"%s search finds the memory once the relay applied it", mode)
	}

	code, body = do(t, http.MethodDelete, base+"/api/v1/memories/"+added.ID, token, "")
	require.Less(t, code, 300, body)
	for _, mode := range []string{"vector", "lexical"} {
		require.Eventually(t, func() bool { return !found(mode) }, 30*time.Second, 100*time.Millisecond,
			"%s search no longer finds the deleted memory", mode)
	}
	code, body = do(t, http.MethodGet, base+"/readyz", "", "")
	require.Equal(t, http.StatusOK, code, body)
}
