package main

import (
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/contracttest"
)

// replicaOf is pg (a schema URL on the primary) pointed at the streaming
// replica of ENGRAM_TEST_POSTGRES_REPLICA_URL: same user, database and
// search_path, the replica's host and port.
func replicaOf(t *testing.T, pg string) string {
	t.Helper()
	rep, err := url.Parse(contracttest.BackendAddr(t, contracttest.Replica))
	require.NoError(t, err)
	u, err := url.Parse(pg)
	require.NoError(t, err)
	u.Host = rep.Host
	return u.String()
}

// openSchemaDB is a superuser pool on pg's schema, for checking what the
// store holds behind the API.
func openSchemaDB(t *testing.T, pg string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", pg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// engramd with ENGRAM_POSTGRES_REPLICA_URLS: /readyz names the replica with
// its lag, a write's answer carries Engram-Consistency, a read that sends
// it back sees the write, a malformed token is a 400 problem, and an
// unreachable replica beside it neither stops the start nor the reads.
func TestEngramdReadsFromAReplica(t *testing.T) {
	pg := pgSchemaURL(t)
	unreachable, err := url.Parse(pg)
	require.NoError(t, err)
	unreachable.Host = "127.0.0.1:1"
	dir := t.TempDir()
	base, _, _ := startEngramd(t, map[string]string{
		"ENGRAM_DATA_DIR": dir, "ENGRAM_POSTGRES_URL": pg,
		"ENGRAM_POSTGRES_REPLICA_URLS": replicaOf(t, pg) + "," + unreachable.String(),
	})
	raw, err := os.ReadFile(filepath.Join(dir, "local-token"))
	require.NoError(t, err)
	token := strings.TrimSpace(string(raw))

	code, body := do(t, http.MethodGet, base+"/readyz", "", "")
	require.Equal(t, http.StatusOK, code, "a replica down is not a reason to be unready: %s", body)
	var ready struct {
		Checks map[string]struct {
			Status     string   `json:"status"`
			Required   bool     `json:"required"`
			LagSeconds *float64 `json:"lag_seconds"`
		} `json:"checks"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &ready))
	r0, r1 := ready.Checks["postgres_replica0"], ready.Checks["postgres_replica1"]
	require.Equal(t, "ok", r0.Status, body)
	require.NotNil(t, r0.LagSeconds, body)
	require.False(t, r0.Required)
	require.Equal(t, "down", r1.Status, body)
	require.NotContains(t, body, "127.0.0.1:1", "/readyz names replicas by position, never by host")

	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/memories", strings.NewReader(`{"text":"read from a replica"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusCreated, res.StatusCode)
	tok := res.Header.Get("Engram-Consistency")
	require.Regexp(t, `^[0-9A-F]+/[0-9A-F]+$`, tok)

	get := func(consistency string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, base+"/api/v1/memories", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Engram-Consistency", consistency)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, string(b)
	}
	code, body = get(tok)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, "read from a replica", "read-your-writes with the token")
	code, body = get("not-a-position")
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Contains(t, body, "consistency")
	code, body = get("FFFFFFF/0")
	require.Equal(t, http.StatusBadRequest, code, "a position from the future: %s", body)
}
