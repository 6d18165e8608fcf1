package sqlitestore_test

import (
	"testing"

	"github.com/engram-memory/engram/contracttest"
)

func TestErasureContract(t *testing.T) {
	contracttest.RunErasure(t, func(t *testing.T) contracttest.ErasureBackend { return openTemp(t) })
}

func TestAuditLogContract(t *testing.T) {
	contracttest.RunAuditLog(t, func(t *testing.T) contracttest.AuditBackend { return openTemp(t) })
}

func TestRetentionContract(t *testing.T) {
	contracttest.RunRetention(t, func(t *testing.T) contracttest.RetentionBackend { return openTemp(t) })
}
