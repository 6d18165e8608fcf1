package sqlitestore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/ports"
)

// openTemp opens a store on a fresh file in t's temporary directory.
func openTemp(t testing.TB) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: filepath.Join(t.TempDir(), "data", "engram.db")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func TestMemoryStoreContract(t *testing.T) {
	contracttest.RunMemoryStore(t, func(t *testing.T) ports.MemoryStore { return openTemp(t) })
}

func TestAppStoreContract(t *testing.T) {
	contracttest.RunAppStore(t, func(t *testing.T) ports.AppStore { return openTemp(t) })
}

func TestAccessLogContract(t *testing.T) {
	contracttest.RunAccessLog(t, func(t *testing.T) contracttest.AccessLogStore { return openTemp(t) })
}

func TestArchiveContract(t *testing.T) {
	contracttest.RunArchiveStore(t, func(t *testing.T) contracttest.ArchiveStore { return openTemp(t) })
}

func TestDataMigrationContract(t *testing.T) {
	contracttest.RunDataMigration(t, func(t *testing.T) contracttest.DataMigrationStore { return openTemp(t) })
}

func TestKeyStoreContract(t *testing.T) {
	contracttest.RunKeyStore(t, func(t *testing.T) ports.KeyStore { return openTemp(t) })
}

func TestMemoryOwnersContract(t *testing.T) {
	contracttest.RunMemoryOwners(t, func(t *testing.T) contracttest.OwnersStore { return openTemp(t) })
}

func TestOAuthStoreContract(t *testing.T) {
	contracttest.RunOAuthStore(t, func(t *testing.T) contracttest.OAuthBackend { return openTemp(t) })
}

func TestIndexOutboxContract(t *testing.T) {
	contracttest.RunIndexOutbox(t, func(t *testing.T) contracttest.OutboxBackend {
		s := openTemp(t)
		return contracttest.OutboxBackend{Memories: s, Outbox: s.Outbox(), Subjects: s}
	})
}

func TestEntityStoreContract(t *testing.T) {
	contracttest.RunEntityStore(t, func(t *testing.T) ports.EntityStore { return openTemp(t) })
}

func TestEntityErasureContract(t *testing.T) {
	contracttest.RunEntityErasure(t, func(t *testing.T) contracttest.EntityErasureBackend { return openTemp(t) })
}

func TestInferenceWriterContract(t *testing.T) {
	contracttest.RunInferenceWriter(t, func(t *testing.T) contracttest.InferenceStore { return openTemp(t) })
}

func TestInferenceEventsContract(t *testing.T) {
	contracttest.RunInferenceEvents(t, func(t *testing.T) ports.InferenceEvents { return openTemp(t) })
}

func TestUISessionStoreContract(t *testing.T) {
	contracttest.RunUISessionStore(t, func(t *testing.T) contracttest.UISessionBackend { return openTemp(t) })
}
