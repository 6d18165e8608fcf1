package wiring

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// A data directory owned by another user is refused with a message naming
// both uids (that user could replace the signing key), and one group- or
// world-writable still is; a private directory of our own passes.
func TestDataDirOwnerAndModeAreChecked(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no uids on windows")
	}
	own := t.TempDir()
	require.NoError(t, os.Chmod(own, 0o700))
	require.NoError(t, checkDataDir(own))

	other := filepath.Join(t.TempDir(), "other")
	require.NoError(t, os.Mkdir(other, 0o700))
	if os.Geteuid() == 0 {
		require.NoError(t, os.Chown(other, 12345, 12345))
	} else {
		other = "/" // owned by root, not by us
	}
	err := checkDataDir(other)
	require.ErrorContains(t, err, "ENGRAM_DATA_DIR")
	require.ErrorContains(t, err, "owned by uid")
	require.ErrorContains(t, err, "chown "+strconv.Itoa(os.Geteuid()))

	require.NoError(t, os.Chmod(own, 0o770))
	require.ErrorContains(t, checkDataDir(own), "chmod 700")
}
