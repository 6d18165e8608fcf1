package main

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
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
