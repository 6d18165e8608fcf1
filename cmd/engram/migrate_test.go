package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	_ "github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/contracttest"
	pgmigrations "github.com/engram-memory/engram/migrations/postgres"
)

// migrateSchema makes an empty schema and returns a URL pinned to it.
func migrateSchema(t *testing.T) string { return migrateSchemaTB(t) }

func migrateSchemaTB(t testing.TB) string {
	t.Helper()
	base := contracttest.BackendAddr(t, contracttest.Postgres)
	db, err := sql.Open("postgres", base)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "engram_cli_" + hex.EncodeToString(b[:])
	_, err = db.Exec(`CREATE SCHEMA ` + schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		require.NoError(t, err)
	})
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestMigrateCommand(t *testing.T) {
	pgURL := migrateSchema(t)
	engram := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, &out, &errOut)
		return out.String(), err
	}
	out, err := engram("migrate", "version", "--postgres-url", pgURL)
	require.NoError(t, err)
	require.Equal(t, "schema version 0\n", out)

	latest := latestPostgresMigration(t)
	out, err = engram("migrate", "up", "--postgres-url", pgURL)
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("migrated up: schema version %d\n", latest), out)

	out, err = engram("migrate", "--postgres-url", pgURL, "version")
	require.NoError(t, err, "flags before the action")
	require.Equal(t, fmt.Sprintf("schema version %d\n", latest), out)

	// Versions have gaps (each helper of a session owns a range).
	versions := postgresMigrationVersions(t)
	for i := len(versions) - 2; i >= -1; i-- {
		want := 0
		if i >= 0 {
			want = versions[i]
		}
		out, err = engram("migrate", "down", "--postgres-url", pgURL)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("migrated down: schema version %d\n", want), out)
	}

	_, err = engram("migrate", "down", "--postgres-url", pgURL)
	require.ErrorContains(t, err, "no migration to revert")
}

// postgresMigrationVersions lists the embedded versions in ascending order.
func postgresMigrationVersions(t *testing.T) []int {
	t.Helper()
	names, err := fs.Glob(pgmigrations.FS, "*.up.sql")
	require.NoError(t, err)
	var out []int
	for _, n := range names {
		v, err := strconv.Atoi(strings.SplitN(n, "_", 2)[0])
		require.NoError(t, err, n)
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// latestPostgresMigration is the highest embedded migration version, so the
// test keeps passing as migrations are added.
func latestPostgresMigration(t *testing.T) int {
	t.Helper()
	names, err := fs.Glob(pgmigrations.FS, "*.up.sql")
	require.NoError(t, err)
	latest := 0
	for _, n := range names {
		v, err := strconv.Atoi(strings.SplitN(n, "_", 2)[0])
		require.NoError(t, err, n)
		latest = max(latest, v)
	}
	return latest
}

// TestMigrateForceClearsDirty plays an operator after a failed migration:
// version reports the dirty flag, force records the repaired version.
func TestMigrateForceClearsDirty(t *testing.T) {
	pgURL := migrateSchema(t)
	engram := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append(args, "--postgres-url", pgURL), &out, &bytes.Buffer{})
		return out.String(), err
	}
	_, err := engram("migrate", "up")
	require.NoError(t, err)
	db, err := sql.Open("postgres", pgURL)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(`UPDATE schema_migrations SET dirty = true`)
	require.NoError(t, err)

	out, err := engram("migrate", "version")
	require.NoError(t, err)
	require.Contains(t, out, "dirty")
	_, err = engram("migrate", "up")
	require.Error(t, err, "a dirty schema must not be migrated further")

	latest := latestPostgresMigration(t)
	out, err = engram("migrate", "force", strconv.Itoa(latest))
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("schema version forced to %d\n", latest), out)
	out, err = engram("migrate", "version")
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("schema version %d\n", latest), out)
}

func TestMigrateCommandRefusesBadInput(t *testing.T) {
	t.Setenv("ENGRAM_POSTGRES_URL", "")
	for _, args := range [][]string{
		{"migrate"},
		{"migrate", "sideways", "--postgres-url", "postgres://x@127.0.0.1:1/x"},
		{"migrate", "up"},
		{"migrate", "up", "extra", "--postgres-url", "postgres://x@127.0.0.1:1/x"},
		{"migrate", "up", "--no-such-flag"},
		{"migrate", "force", "--postgres-url", "postgres://x@127.0.0.1:1/x"},
		{"migrate", "force", "-3", "--postgres-url", "postgres://x@127.0.0.1:1/x"},
		{"migrate", "force", "two", "--postgres-url", "postgres://x@127.0.0.1:1/x"},
	} {
		err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{})
		require.Error(t, err, "%q", args)
	}
}

func TestMigrateUpVerify(t *testing.T) {
	pgURL := migrateSchema(t)
	_, _, err := engramCmd(t, "migrate", "up", "--verify", "--postgres-url", pgURL)
	require.ErrorContains(t, err, "migrate up without --verify first", "an empty schema has no archive columns to read")

	_, _, err = engramCmd(t, "migrate", "up", "--postgres-url", pgURL)
	require.NoError(t, err)
	data := seedSQLite(t, 10)
	a := archivePath(t)
	_, _, err = engramCmd(t, "export", "--data-dir", data, "-o", a)
	require.NoError(t, err)
	_, _, err = engramCmd(t, "import", a, "--postgres-url", pgURL)
	require.NoError(t, err)
	_, _, err = engramCmd(t, "migrate", "down", "--postgres-url", pgURL)
	require.NoError(t, err)

	out, _, err := engramCmd(t, "migrate", "up", "--verify", "--postgres-url", pgURL)
	require.NoError(t, err)
	require.Contains(t, out, "verified")
	require.Contains(t, out, "rows of every table and org unchanged")
	_, _, err = engramCmd(t, "migrate", "down", "--verify", "--postgres-url", pgURL)
	require.ErrorContains(t, err, "--verify goes with up")
}
