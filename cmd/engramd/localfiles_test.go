package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The local token's mode is enforced on every start, and a data directory
// others can write to (where the signing key lives) is refused.
func TestLocalTokenModeAndDataDirAreChecked(t *testing.T) {
	dir := t.TempDir()
	_, stop, _ := startEngramd(t, map[string]string{"ENGRAM_DATA_DIR": dir, "ENGRAM_ADMIN_ADDR": "off"})
	require.NoError(t, stop())
	tok := filepath.Join(dir, "local-token")
	require.NoError(t, os.Chmod(tok, 0o644))
	_, stop, _ = startEngramd(t, map[string]string{"ENGRAM_DATA_DIR": dir, "ENGRAM_ADMIN_ADDR": "off"})
	require.NoError(t, stop())
	info, err := os.Stat(tok)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the reused token was made private again")

	require.NoError(t, os.Chmod(dir, 0o777))
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	env := map[string]string{"ENGRAM_DATA_DIR": dir, "ENGRAM_ADMIN_ADDR": "off", "ENGRAM_ADDR": "127.0.0.1:0"}
	err = run(t.Context(), nil, func(k string) string { return env[k] }, &syncBuffer{}, &syncBuffer{})
	require.ErrorContains(t, err, "ENGRAM_DATA_DIR")
	require.ErrorContains(t, err, "chmod 700")
}

// The zero-config owner can take their own data out with the token engramd
// prints: the archive export needs backup:read, which DefaultUserScopes
// leave out (403 before LocalOwnerScopes).
func TestLocalTokenCanExportTheOwnersData(t *testing.T) {
	dir := t.TempDir()
	base, stop, _ := startEngramd(t, map[string]string{"ENGRAM_DATA_DIR": dir, "ENGRAM_ADMIN_ADDR": "off"})
	defer func() { require.NoError(t, stop()) }()
	raw, err := os.ReadFile(filepath.Join(dir, "local-token"))
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/api/v1/export", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(raw)))
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	require.Equal(t, http.StatusOK, res.StatusCode)
}
