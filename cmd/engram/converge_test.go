package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
)

// convergeWithin is the promise: a write through one process is found by
// vector search through another within a second. The test allows a loaded
// CI machine twice that before it fails, and logs what it measured.
const convergeWithin = 2 * time.Second

// searchHTTP runs a search through an engramd handler and returns the ids
// found, in order.
func searchHTTP(t *testing.T, base, token, query, mode string) []string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "mode": mode, "limit": 5})
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/search", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out struct {
		Results []struct {
			Memory struct {
				ID string `json:"id"`
			} `json:"memory"`
		} `json:"results"`
		Degraded []string `json:"degraded"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.Empty(t, out.Degraded)
	ids := make([]string, len(out.Results))
	for i, r := range out.Results {
		ids[i] = r.Memory.ID
	}
	return ids
}

// TestEngramdSeesWritesOfEngramMCPOnTheSameDataDir is the reported bug: a
// memory added through `engram mcp` (a separate process) on engramd's data
// directory must reach engramd's in-process vector index, which only the
// store's change feed can tell about it.
func TestEngramdSeesWritesOfEngramMCPOnTheSameDataDir(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	ts := httptest.NewUnstartedServer(nil)
	cfg, err := config.Load([]string{"--addr", ts.Listener.Addr().String(), "--data-dir", data}, func(string) string { return "" })
	require.NoError(t, err)
	sys, err := wiring.Build(ctx, cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { _ = sys.Close() })
	ts.Config.Handler = sys.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	tok, err := sys.MintLocal(jwtauth.Claims{Subject: wiring.LocalUser, OrgID: jwtauth.LocalOrg})
	require.NoError(t, err)

	// Something for a stale index to return instead.
	cs := stdioSession(t, "Claude Desktop", "mcp", "--data-dir", data)
	callTool[mcpAdded](t, cs, "add_memories", map[string]any{"text": "The quarterly report is due on Friday"})
	added := callTool[mcpAdded](t, cs, "add_memories", map[string]any{"text": "My cat Biscuit loves sardines"})
	start := time.Now()
	var got []string
	for time.Since(start) < convergeWithin {
		if got = searchHTTP(t, ts.URL, tok, "Biscuit sardines cat", "vector"); len(got) > 0 && got[0] == added.Memory.ID {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NotEmpty(t, got)
	require.Equal(t, added.Memory.ID, got[0], "engramd's vector search must return the memory the other process added")
	t.Logf("visible to engramd's vector search %s after engram mcp added it", time.Since(start).Round(time.Millisecond))
}
