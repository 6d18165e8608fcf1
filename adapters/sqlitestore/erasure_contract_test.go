package sqlitestore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/keywrap"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/ports"
)

func TestErasureContract(t *testing.T) {
	contracttest.RunErasure(t, func(t *testing.T) contracttest.ErasureBackend { return openTemp(t) })
}

func TestCredentialErasureContract(t *testing.T) {
	contracttest.RunCredentialErasure(t, func(t *testing.T) contracttest.CredentialBackend { return openTemp(t) })
}

func TestAuditLogContract(t *testing.T) {
	contracttest.RunAuditLog(t, func(t *testing.T) contracttest.AuditBackend { return openTemp(t) })
}

func TestRetentionContract(t *testing.T) {
	contracttest.RunRetention(t, func(t *testing.T) contracttest.RetentionBackend { return openTemp(t) })
}

func TestEncryptionAtRestContract(t *testing.T) {
	contracttest.RunEncryptionAtRest(t, func(t *testing.T) contracttest.EncryptionBackend {
		dir := t.TempDir()
		s := openEncrypted(t, dir)
		return contracttest.EncryptionBackend{Store: s, AtRest: func(t *testing.T) []byte {
			var all []byte
			for _, f := range []string{"engram.db", "engram.db-wal"} {
				b, err := os.ReadFile(filepath.Join(dir, f))
				if !errors.Is(err, os.ErrNotExist) {
					require.NoError(t, err)
				}
				all = append(all, b...)
			}
			return all
		}}
	})
}

// openEncrypted opens a store in dir with encryption on and the key file
// beside it.
func openEncrypted(t testing.TB, dir string) *sqlitestore.Store {
	t.Helper()
	kek, err := keywrap.OpenFile(filepath.Join(dir, keywrap.FileName))
	require.NoError(t, err)
	s, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: filepath.Join(dir, "engram.db"), Keys: kek, Encrypt: true})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func TestMemoryStoreContractEncrypted(t *testing.T) {
	contracttest.RunMemoryStore(t, func(t *testing.T) ports.MemoryStore { return openEncrypted(t, t.TempDir()) })
}

func TestPlaintextSealerContract(t *testing.T) {
	contracttest.RunPlaintextSealer(t, func(t *testing.T) contracttest.SealBackend {
		dir := t.TempDir()
		plain, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: filepath.Join(dir, "engram.db")})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, plain.Close()) })
		sealed := openEncrypted(t, dir)
		return contracttest.SealBackend{Plain: plain, Sealed: sealed, Compact: sealed.Compact, AtRest: func(t *testing.T) []byte {
			var all []byte
			for _, f := range []string{"engram.db", "engram.db-wal"} {
				b, err := os.ReadFile(filepath.Join(dir, f))
				if !errors.Is(err, os.ErrNotExist) {
					require.NoError(t, err)
				}
				all = append(all, b...)
			}
			return all
		}}
	})
}
