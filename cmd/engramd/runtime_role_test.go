package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
)

// runtimeRole creates, as docs/postgres.md says, a login role that is only
// a member of engram_app (after the owner migrated), and returns pg with
// that role as its user. Roles are cluster-wide: each test gets its own.
func runtimeRole(t *testing.T, ownerURL string) string {
	t.Helper()
	db, err := sql.Open("postgres", ownerURL)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	var b [6]byte
	_, _ = rand.Read(b[:])
	role := "engram_rt_" + hex.EncodeToString(b[:])
	_, err = db.Exec(`CREATE ROLE ` + role + ` LOGIN PASSWORD 'runtime-secret' IN ROLE engram_app`)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = db.Exec(`REASSIGN OWNED BY ` + role + ` TO CURRENT_USER`)
		_, _ = db.Exec(`DROP OWNED BY ` + role)
		_, _ = db.Exec(`DROP ROLE ` + role)
	})
	u, err := url.Parse(ownerURL)
	require.NoError(t, err)
	u.User = url.UserPassword(role, "runtime-secret")
	return u.String()
}

// engramd runs as the documented runtime role — a login role that is only a
// member of engram_app, on a schema the owner migrated — with and without
// --no-migrate, and serves writes, reads and searches.
func TestEngramdRunsAsTheRuntimeRole(t *testing.T) {
	owner := pgSchemaURL(t)
	_, err := pgstore.Migrate(context.Background(), owner, pgstore.Up)
	require.NoError(t, err)
	rt := runtimeRole(t, owner)

	v, _, err := pgstore.Version(context.Background(), rt)
	require.NoError(t, err, "the runtime role reads the schema version")
	require.NotZero(t, v)

	for _, noMigrate := range []string{"true", "false"} {
		t.Run("no-migrate="+noMigrate, func(t *testing.T) {
			dir := t.TempDir()
			e := startLogged(t, map[string]string{"ENGRAM_DATA_DIR": dir, "ENGRAM_POSTGRES_URL": rt, "ENGRAM_NO_MIGRATE": noMigrate})
			word := "runtimerole" + noMigrate + hex.EncodeToString([]byte(dir[len(dir)-4:]))
			code, body := do(t, http.MethodPost, e.base+"/api/v1/memories", e.token, `{"text":"written by the runtime role `+word+`"}`)
			require.Equal(t, http.StatusCreated, code, body)
			code, body = do(t, http.MethodGet, e.base+"/api/v1/memories", e.token, "")
			require.Equal(t, http.StatusOK, code, body)
			require.Contains(t, body, word)
			code, body = do(t, http.MethodPost, e.base+"/api/v1/search", e.token, `{"query":"`+word+`"}`)
			require.Equal(t, http.StatusOK, code, body)
			require.Contains(t, body, word)
			code, body = do(t, http.MethodGet, e.base+"/readyz", "", "")
			require.Equal(t, http.StatusOK, code, body)
			require.NoError(t, e.stop())
		})
	}
}

// On a schema that is behind, the runtime role may not migrate: engramd
// refuses to start and names `engram migrate up`, with or without
// --no-migrate (here: a schema one migration behind).
func TestRuntimeRoleOnAnOldSchemaNamesMigrateUp(t *testing.T) {
	owner := pgSchemaURL(t)
	_, err := pgstore.Migrate(context.Background(), owner, pgstore.Up)
	require.NoError(t, err)
	_, err = pgstore.Migrate(context.Background(), owner, pgstore.Down)
	require.NoError(t, err)
	rt := runtimeRole(t, owner)
	for _, noMigrate := range []string{"true", "false"} {
		err := run(context.Background(), nil, func(k string) string {
			return map[string]string{"ENGRAM_DATA_DIR": t.TempDir(), "ENGRAM_POSTGRES_URL": rt,
				"ENGRAM_ADDR": "127.0.0.1:0", "ENGRAM_NO_MIGRATE": noMigrate}[k]
		}, io.Discard, io.Discard)
		require.Error(t, err, "no-migrate=%s", noMigrate)
		require.Contains(t, err.Error(), "engram migrate up", "no-migrate=%s", noMigrate)
	}
}
