package pgstore_test

import (
	"testing"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/ports"
)

// Each subtest gets its own schema, migrated from scratch, and a store that
// logs in as the non-owner test role, so the suites run under row-level
// security exactly as production does.

func TestMemoryStoreContract(t *testing.T) {
	contracttest.RunMemoryStore(t, func(t *testing.T) ports.MemoryStore {
		return newStore(t, pgstore.Options{})
	})
}

// TestMemoryStoreContractCopy runs the suite again with every batch loaded
// through COPY, the path BatchAuto takes only for big batches.
func TestMemoryStoreContractCopy(t *testing.T) {
	contracttest.RunMemoryStore(t, func(t *testing.T) ports.MemoryStore {
		return newStore(t, pgstore.Options{Batch: pgstore.BatchCopy})
	})
}

func TestAppStoreContract(t *testing.T) {
	contracttest.RunAppStore(t, func(t *testing.T) ports.AppStore {
		return newStore(t, pgstore.Options{})
	})
}

func TestAccessLogContract(t *testing.T) {
	contracttest.RunAccessLog(t, func(t *testing.T) contracttest.AccessLogStore {
		return newStore(t, pgstore.Options{})
	})
}

func TestArchiveContract(t *testing.T) {
	contracttest.RunArchiveStore(t, func(t *testing.T) contracttest.ArchiveStore {
		return newStore(t, pgstore.Options{})
	})
}

func TestDataMigrationContract(t *testing.T) {
	contracttest.RunDataMigration(t, func(t *testing.T) contracttest.DataMigrationStore {
		return newStore(t, pgstore.Options{})
	})
}

func TestErasureContract(t *testing.T) {
	contracttest.RunErasure(t, func(t *testing.T) contracttest.ErasureBackend {
		return newStore(t, pgstore.Options{})
	})
}

func TestCredentialErasureContract(t *testing.T) {
	contracttest.RunCredentialErasure(t, func(t *testing.T) contracttest.CredentialBackend {
		return newStore(t, pgstore.Options{})
	})
}

func TestRetentionContract(t *testing.T) {
	contracttest.RunRetention(t, func(t *testing.T) contracttest.RetentionBackend {
		return newStore(t, pgstore.Options{})
	})
}

func TestKeyStoreContract(t *testing.T) {
	contracttest.RunKeyStore(t, func(t *testing.T) ports.KeyStore {
		return newStore(t, pgstore.Options{})
	})
}

func TestMemoryOwnersContract(t *testing.T) {
	contracttest.RunMemoryOwners(t, func(t *testing.T) contracttest.OwnersStore {
		return newStore(t, pgstore.Options{})
	})
}

func TestAuditLogContract(t *testing.T) {
	contracttest.RunAuditLog(t, func(t *testing.T) contracttest.AuditBackend {
		return newStore(t, pgstore.Options{})
	})
}

func TestOAuthStoreContract(t *testing.T) {
	contracttest.RunOAuthStore(t, func(t *testing.T) contracttest.OAuthBackend {
		return newStore(t, pgstore.Options{})
	})
}

func TestUISessionStoreContract(t *testing.T) {
	contracttest.RunUISessionStore(t, func(t *testing.T) contracttest.UISessionBackend {
		return newStore(t, pgstore.Options{})
	})
}

func TestIndexOutboxContract(t *testing.T) {
	contracttest.RunIndexOutbox(t, func(t *testing.T) contracttest.OutboxBackend {
		s := newStore(t, pgstore.Options{})
		return contracttest.OutboxBackend{Memories: s, Outbox: s.Outbox(), Subjects: s}
	})
}

func TestEntityStoreContract(t *testing.T) {
	contracttest.RunEntityStore(t, func(t *testing.T) ports.EntityStore {
		return newStore(t, pgstore.Options{})
	})
}

func TestEntityErasureContract(t *testing.T) {
	contracttest.RunEntityErasure(t, func(t *testing.T) contracttest.EntityErasureBackend {
		return newStore(t, pgstore.Options{})
	})
}

func TestInferenceWriterContract(t *testing.T) {
	contracttest.RunInferenceWriter(t, func(t *testing.T) contracttest.InferenceStore {
		return newStore(t, pgstore.Options{})
	})
}

func TestInferenceEventsContract(t *testing.T) {
	contracttest.RunInferenceEvents(t, func(t *testing.T) ports.InferenceEvents {
		return newStore(t, pgstore.Options{})
	})
}
