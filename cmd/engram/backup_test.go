package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/archive"
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

// TestVerifyTrialRestoreCatchesWhatChecksumsCannot: an archive whose
// manifest matches its members but whose rows do not restore to the same
// data (a history entry written twice) fails the trial restore.
func TestVerifyTrialRestoreCatchesWhatChecksumsCannot(t *testing.T) {
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

	_, _, err = engramCmd(t, "backup", "verify", path, "--trial-restore=false")
	require.NoError(t, err, "checksums alone pass")
	out, _, err := engramCmd(t, "backup", "verify", path)
	require.Equal(t, exitVerifyRestore, exitCode(t, err))
	require.Contains(t, out, "memory_history: 1 rows restored, the manifest says 2")
}
