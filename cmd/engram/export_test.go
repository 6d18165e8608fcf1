package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/archive"
)

func engramCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func readManifest(t *testing.T, path string) archive.Manifest {
	t.Helper()
	return openArchive(t, path).Manifest
}

// openArchive opens the archive at path for the rest of the test.
func openArchive(t *testing.T, path string) *archive.Reader {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	require.NoError(t, err)
	r, err := archive.Open(f, st.Size(), archive.Limits{})
	require.NoError(t, err)
	return r
}

type memberSum struct {
	Rows   int64
	SHA256 string
}

func memberSums(m archive.Manifest) map[string]memberSum {
	out := map[string]memberSum{}
	for _, x := range m.Members {
		out[x.Table] = memberSum{x.Rows, x.SHA256}
	}
	return out
}

// TestSQLiteToPostgresRoundTrip is the acceptance test: an archive
// of an embedded store, imported into PostgreSQL and exported again, has
// the same rows and checksums in every table.
func TestSQLiteToPostgresRoundTrip(t *testing.T) {
	pgURL := migrateSchema(t)
	data := seedSQLite(t, 40)
	a1, a2 := archivePath(t), archivePath(t)

	_, _, err := engramCmd(t, "export", "--data-dir", data, "-o", a1)
	require.NoError(t, err)
	out, _, err := engramCmd(t, "import", a1, "--postgres-url", pgURL)
	require.NoError(t, err)
	require.Contains(t, out, "memories")
	_, _, err = engramCmd(t, "export", "--postgres-url", pgURL, "-o", a2)
	require.NoError(t, err)

	m1, m2 := readManifest(t, a1), readManifest(t, a2)
	require.Equal(t, "sqlite", m1.Source.Profile)
	require.Equal(t, "postgres", m2.Source.Profile)
	s1 := memberSums(m1)
	require.Len(t, s1, 9, "every table")
	require.EqualValues(t, 120, s1["memories"].Rows)
	require.EqualValues(t, 1, s1["experiments"].Rows)
	require.EqualValues(t, 2, s1["experiment_history"].Rows)
	require.Equal(t, s1, memberSums(m2))

	// And back into a fresh embedded store: the same again.
	a3 := archivePath(t)
	empty := t.TempDir()
	_, _, err = engramCmd(t, "import", a2, "--data-dir", empty)
	require.NoError(t, err)
	_, _, err = engramCmd(t, "export", "--data-dir", empty, "-o", a3)
	require.NoError(t, err)
	require.Equal(t, s1, memberSums(readManifest(t, a3)))

	// Each tenant's expiring memory keeps its expiry through both stores.
	for _, a := range []string{a1, a2, a3} {
		require.Equal(t, 3, linesWith(t, a, "memories", `,"expires_at":"2096-06-01T09:00:00.123456Z"`), a)
	}
}

// linesWith counts the lines of an archive's member that contain s.
func linesWith(t *testing.T, path, table, s string) int {
	t.Helper()
	mr, _, err := openArchive(t, path).OpenMember(table)
	require.NoError(t, err)
	defer mr.Close()
	n := 0
	for {
		line, err := mr.Next()
		if errors.Is(err, io.EOF) {
			return n
		}
		require.NoError(t, err)
		if strings.Contains(string(line), s) {
			n++
		}
	}
}

func TestExportScopes(t *testing.T) {
	data := seedSQLite(t, 5)
	a := archivePath(t)
	_, _, err := engramCmd(t, "export", "--data-dir", data, "--org", "acme", "--user", "bob", "-o", a, "--omit", "memory_access")
	require.NoError(t, err)
	m := readManifest(t, a)
	require.Equal(t, "user", m.Scope.Kind)
	s := memberSums(m)
	require.EqualValues(t, 5, s["memories"].Rows)
	require.NotContains(t, s, "experiments", "a user's export leaves out the org's experiments")
	require.NotContains(t, s, "memory_access")

	_, _, err = engramCmd(t, "export", "--data-dir", data, "--user", "bob", "-o", a)
	require.ErrorContains(t, err, "--user needs --org")
	_, _, err = engramCmd(t, "export", "--data-dir", data, "--since", "2099-01-01T00:00:00Z", "-o", a)
	require.NoError(t, err)
	require.Zero(t, memberSums(readManifest(t, a))["memories"].Rows)
}

func TestImportDryRunAndBadFile(t *testing.T) {
	data := seedSQLite(t, 5)
	a := archivePath(t)
	_, _, err := engramCmd(t, "export", "--data-dir", data, "-o", a)
	require.NoError(t, err)
	empty := t.TempDir()
	out, _, err := engramCmd(t, "import", "--dry-run", a, "--data-dir", empty)
	require.NoError(t, err)
	require.Contains(t, out, "dry run: would import")
	b := archivePath(t)
	_, _, err = engramCmd(t, "export", "--data-dir", empty, "-o", b)
	require.NoError(t, err)
	require.Zero(t, memberSums(readManifest(t, b))["memories"].Rows)

	raw, err := os.ReadFile(a)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(a, raw[:len(raw)/2], 0o600))
	_, _, err = engramCmd(t, "import", a, "--data-dir", empty)
	require.ErrorContains(t, err, "truncated or corrupted")
}
