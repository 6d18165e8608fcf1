package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/adapters/keywrap"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
)

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exitError
	require.True(t, errors.As(err, &ee), "%v", err)
	return ee.code
}

func TestBackupRestoreAndVerify(t *testing.T) {
	data := seedSQLite(t, 20)
	dir := t.TempDir()
	out, _, err := engramCmd(t, "backup", "--data-dir", data, "--dir", dir)
	require.NoError(t, err)
	backup := strings.TrimSpace(out)
	require.FileExists(t, backup)

	metrics := filepath.Join(t.TempDir(), "engram_backup.prom")
	out, _, err = engramCmd(t, "backup", "verify", backup, "--max-age", "1h", "--metrics-file", metrics)
	require.NoError(t, err)
	require.Contains(t, out, "OK")
	require.Contains(t, out, "trial restore into scratch sqlite: counts and checksums match")
	prom, err := os.ReadFile(metrics)
	require.NoError(t, err)
	require.Contains(t, string(prom), "engram_backup_verify_success 1\n")
	require.Contains(t, string(prom), `engram_backup_rows{table="memories"} 60`)

	// Restore into an empty store gives the same data back.
	empty := t.TempDir()
	_, _, err = engramCmd(t, "restore", backup, "--data-dir", empty)
	require.NoError(t, err)
	again := archivePath(t)
	_, _, err = engramCmd(t, "export", "--data-dir", empty, "-o", again)
	require.NoError(t, err)
	require.Equal(t, memberSums(readManifest(t, backup)), memberSums(readManifest(t, again)))
	_, _, err = engramCmd(t, "restore", backup, "--data-dir", empty)
	require.ErrorContains(t, err, "not empty")

	// Stale: exit 3. Tampered: exit 5. Missing: exit 2, and the metrics
	// keep the last success time.
	_, _, err = engramCmd(t, "backup", "verify", backup, "--max-age", "1ns")
	require.Equal(t, exitVerifyStale, exitCode(t, err))

	raw, err := os.ReadFile(backup)
	require.NoError(t, err)
	tampered := filepath.Join(t.TempDir(), "tampered.engram")
	raw[len(raw)/3] ^= 0xff
	require.NoError(t, os.WriteFile(tampered, raw, 0o600))
	out, _, err = engramCmd(t, "backup", "verify", tampered, "--json")
	require.Equal(t, exitVerifyCorrupt, exitCode(t, err))
	require.Contains(t, out, `"failed_check": "integrity"`)

	_, _, err = engramCmd(t, "backup", "verify", filepath.Join(dir, "nope.engram"), "--metrics-file", metrics)
	require.Equal(t, exitVerifyMissing, exitCode(t, err))
	prom, err = os.ReadFile(metrics)
	require.NoError(t, err)
	require.Contains(t, string(prom), "engram_backup_verify_success 0\n")
	require.NotContains(t, string(prom), "engram_backup_verify_last_success_timestamp_seconds 0\n")
}

// oddArchive writes an archive whose manifest matches its members but
// whose rows do not restore to the same data: a history entry written twice.
func oddArchive(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "odd.engram")
	f, err := os.Create(path)
	require.NoError(t, err)
	w := archive.NewWriter(f, archive.Manifest{CreatedAt: time.Now()})
	lines := map[string][]string{
		"memories": {`{"id":"0190e0a0-0000-7000-8000-000000000001","org_id":"acme","user_id":"alice","app_id":"notes","text":"hello","metadata":{},"categories":[],"state":"active","erased":false,"created_at":"2026-01-01T00:00:00.000000Z","updated_at":"2026-01-01T00:00:00.000000Z","agent_id":null,"run_id":null}`},
		"memory_history": {
			`{"memory_id":"0190e0a0-0000-7000-8000-000000000001","org_id":"acme","user_id":"alice","kind":"add","old_values":null,"new_values":{"text":"hello"},"actor_app":"notes","changed_at":"2026-01-01T00:00:00.000000Z"}`,
			`{"memory_id":"0190e0a0-0000-7000-8000-000000000001","org_id":"acme","user_id":"alice","kind":"add","old_values":null,"new_values":{"text":"hello"},"actor_app":"notes","changed_at":"2026-01-01T00:00:00.000000Z"}`,
		},
	}
	for _, table := range []string{"memories", "memory_history"} {
		mw, err := w.Begin(table)
		require.NoError(t, err)
		for _, l := range lines[table] {
			require.NoError(t, mw.WriteLine([]byte(l)))
		}
		require.NoError(t, mw.Close())
	}
	_, err = w.Close()
	require.NoError(t, err)
	require.NoError(t, f.Close())
	return path
}

// TestVerifyTrialRestoreCatchesWhatChecksumsCannot: an archive whose
// manifest matches its members but whose rows do not restore to the same
// data (a history entry written twice) fails the trial restore.
func TestVerifyTrialRestoreCatchesWhatChecksumsCannot(t *testing.T) {
	path := oddArchive(t)
	_, _, err := engramCmd(t, "backup", "verify", path, "--trial-restore=false")
	require.NoError(t, err, "checksums alone pass")
	out, _, err := engramCmd(t, "backup", "verify", path)
	require.Equal(t, exitVerifyRestore, exitCode(t, err))
	require.Contains(t, out, "memory_history: 1 rows restored, the manifest says 2")
}

// TestVerifyTrialRestoreIntoScratchPostgres: with --scratch-postgres the
// trial restore goes into a schema created for it in that database and
// dropped afterwards, pass or fail; a backup that does not restore to its
// manifest fails there as it does on SQLite.
func TestVerifyTrialRestoreIntoScratchPostgres(t *testing.T) {
	base := contracttest.BackendAddr(t, contracttest.Postgres)
	db, err := sql.Open("postgres", base)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	scratchSchemas := func() map[string]bool {
		rows, err := db.Query(`SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)`, wiring.ScratchSchemaPrefix)
		require.NoError(t, err)
		defer rows.Close()
		out := map[string]bool{}
		for rows.Next() {
			var n string
			require.NoError(t, rows.Scan(&n))
			out[n] = true
		}
		require.NoError(t, rows.Err())
		return out
	}
	before := scratchSchemas()
	leftBehind := func() {
		t.Helper()
		for n := range scratchSchemas() {
			require.True(t, before[n], "scratch schema %s left behind", n)
		}
	}

	data := seedSQLite(t, 20)
	out, _, err := engramCmd(t, "backup", "--data-dir", data, "--dir", t.TempDir())
	require.NoError(t, err)
	backup := strings.TrimSpace(out)
	out, _, err = engramCmd(t, "backup", "verify", backup, "--scratch-postgres", base, "--json")
	require.NoError(t, err, out)
	var res verifyResult
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	require.True(t, res.OK)
	require.NotNil(t, res.Restore)
	require.Equal(t, "postgres", res.Restore.Store)
	leftBehind()

	out, _, err = engramCmd(t, "backup", "verify", oddArchive(t), "--scratch-postgres", base)
	require.Equal(t, exitVerifyRestore, exitCode(t, err))
	require.Contains(t, out, "trial restore")
	require.Contains(t, out, "memory_history: 1 rows restored, the manifest says 2")
	leftBehind()

	// A database the role cannot reach is the check failing to run (7),
	// not a bad backup.
	_, _, err = engramCmd(t, "backup", "verify", backup, "--scratch-postgres", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	require.Equal(t, exitVerifyInternal, exitCode(t, err))
}

// A backup of a sealed store (encryption at rest on, the default for a new
// embedded store) verifies: the trial restore's scratch store must not make
// a key of its own, under which the archive's sealed rows would not open
// and would be dropped ("0 rows restored").
func TestVerifySealedBackup(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	kek, err := keywrap.OpenFile(wiring.KEKPath(data))
	require.NoError(t, err)
	st, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: wiring.SQLitePath(data), Keys: kek, Encrypt: true})
	require.NoError(t, err)
	tn := domain.Tenant{OrgID: "acme", UserID: "alice"}
	for i := range 3 {
		m, err := domain.NewMemory(tn, "notes", fmt.Sprintf("alice keeps sealed fact %d", i), domain.Metadata{"i": i}, nil, time.Now())
		require.NoError(t, err)
		_, _, err = st.Create(ctx, tn, m)
		require.NoError(t, err)
	}
	require.NoError(t, st.Close())

	out, _, err := engramCmd(t, "backup", "--data-dir", data, "--dir", t.TempDir())
	require.NoError(t, err)
	backup := strings.TrimSpace(out)
	out, _, err = engramCmd(t, "backup", "verify", backup)
	require.NoError(t, err, out)
	require.Contains(t, out, "trial restore into scratch sqlite: counts and checksums match")
}
