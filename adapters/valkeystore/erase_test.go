package valkeystore_test

import (
	"testing"

	"github.com/engram-memory/engram/adapters/valkeystore"
	"github.com/engram-memory/engram/contracttest"
)

func TestSessionEraserContract(t *testing.T) {
	t.Parallel()
	contracttest.RunSessionEraser(t, func(t *testing.T) contracttest.SessionEraserStore {
		return newStore(t, valkeystore.Options{})
	})
}

func TestIdempotencyEraserContract(t *testing.T) {
	t.Parallel()
	contracttest.RunIdempotencyEraser(t, func(t *testing.T) contracttest.IdempotencyEraserStore {
		return newStore(t, valkeystore.Options{})
	})
}
