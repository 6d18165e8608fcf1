package valkeystore_test

import (
	"testing"

	"github.com/engram-memory/engram/adapters/valkeystore"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/ports"
)

func TestIdempotencyStoreContract(t *testing.T) {
	contracttest.RunIdempotencyStore(t, func(t *testing.T) ports.IdempotencyStore {
		return newStore(t, valkeystore.Options{})
	})
}

func TestIdempotencyQuotaContract(t *testing.T) {
	contracttest.RunIdempotencyQuota(t, func(t *testing.T) ports.IdempotencyStore {
		return newStore(t, valkeystore.Options{MaxBytesPerUser: 8 << 10})
	})
}
