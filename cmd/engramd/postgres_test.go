package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/contracttest"
)

// pgSchemaURL creates a fresh schema and returns the server URL pinned to it.
func pgSchemaURL(t *testing.T) string {
	t.Helper()
	base := contracttest.BackendAddr(t, contracttest.Postgres)
	db, err := sql.Open("postgres", base)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "engramd_test_" + hex.EncodeToString(b[:])
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

func TestPostgresModeMigratesAndServes(t *testing.T) {
	pg := pgSchemaURL(t)
	dir := t.TempDir()
	base, _, _ := startEngramd(t, map[string]string{"ENGRAM_DATA_DIR": dir, "ENGRAM_POSTGRES_URL": pg})
	raw, err := os.ReadFile(filepath.Join(dir, "local-token"))
	require.NoError(t, err)
	token := strings.TrimSpace(string(raw))
	code, body := do(t, http.MethodPost, base+"/api/v1/memories", token, `{"text":"stored in postgres"}`)
	require.Equal(t, http.StatusCreated, code, body)
	code, body = do(t, http.MethodGet, base+"/readyz", "", "")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"postgres"`)

	// The row really is in the schema, owned by the token's org and user.
	db, err := sql.Open("postgres", pg)
	require.NoError(t, err)
	defer db.Close()
	var org, user string
	require.NoError(t, db.QueryRow(`SELECT org_id, user_id FROM memories WHERE text = 'stored in postgres'`).Scan(&org, &user))
	require.Equal(t, "local", org)
	require.Equal(t, "local", user)
}

func TestNoMigrateRefusesAnUnmigratedSchema(t *testing.T) {
	pg := pgSchemaURL(t)
	err := run(context.Background(), []string{"--no-migrate"}, func(k string) string {
		return map[string]string{"ENGRAM_DATA_DIR": t.TempDir(), "ENGRAM_POSTGRES_URL": pg, "ENGRAM_ADDR": "127.0.0.1:0"}[k]
	}, io.Discard, io.Discard)
	require.Error(t, err)
	require.Contains(t, err.Error(), "--no-migrate")
	require.Contains(t, err.Error(), "engram migrate up")
}
