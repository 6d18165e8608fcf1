package wiring

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/keywrap"
)

// ENGRAM_ENCRYPTION=auto (the default) seals a new embedded store when a
// server starts on it (Build) and leaves an existing plaintext one as it
// was (docs/privacy.md).
func TestAutoEncryptionIsOnForANewEmbeddedStoreOnly(t *testing.T) {
	t.Run("new SQLite data directory", func(t *testing.T) {
		cfg := testConfig(t, nil)
		enc, err := OpenEncryption(SealNewEmbeddedStore(cfg), quiet)
		require.NoError(t, err)
		require.True(t, enc.On, "a new embedded store is sealed by default")
		require.NotNil(t, enc.KEK)
		require.Equal(t, filepath.Join(cfg.DataDir, keywrap.FileName), enc.KeyFile)
		st, err := os.Stat(enc.KeyFile)
		require.NoError(t, err, "the key file is made beside the database")
		require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	})
	t.Run("existing SQLite store without a key file", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(SQLitePath(dir), nil, 0o600))
		enc, err := OpenEncryption(SealNewEmbeddedStore(testConfig(t, map[string]string{"ENGRAM_DATA_DIR": dir})), quiet)
		require.NoError(t, err)
		require.False(t, enc.On, "an upgrade does not start depending on a new key file")
		require.NoFileExists(t, filepath.Join(dir, keywrap.FileName))
	})
	t.Run("off on a new store", func(t *testing.T) {
		cfg := testConfig(t, map[string]string{"ENGRAM_ENCRYPTION": "off"})
		enc, err := OpenEncryption(SealNewEmbeddedStore(cfg), quiet)
		require.NoError(t, err)
		require.False(t, enc.On)
		require.NoFileExists(t, filepath.Join(cfg.DataDir, keywrap.FileName))
	})
	t.Run("PostgreSQL without ENGRAM_KEK", func(t *testing.T) {
		// Each engramd of a fleet would make its own key file: a fleet
		// sets ENGRAM_KEK instead.
		cfg := testConfig(t, nil)
		cfg.PostgresURL = "postgres://unused"
		enc, err := OpenEncryption(SealNewEmbeddedStore(cfg), quiet)
		require.NoError(t, err)
		require.False(t, enc.On)
		require.NoFileExists(t, filepath.Join(cfg.DataDir, keywrap.FileName))
	})
}
