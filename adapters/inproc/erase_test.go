package inproc_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/contracttest"
)

func TestSessionEraserContract(t *testing.T) {
	t.Parallel()
	contracttest.RunSessionEraser(t, func(t *testing.T) contracttest.SessionEraserStore {
		st := inproc.NewSessionStore(inproc.SessionOptions{})
		t.Cleanup(func() { require.NoError(t, st.Close()) })
		return st
	})
}

func TestIdempotencyEraserContract(t *testing.T) {
	t.Parallel()
	contracttest.RunIdempotencyEraser(t, func(t *testing.T) contracttest.IdempotencyEraserStore {
		s := inproc.NewIdempotencyStore(inproc.IdempotencyOptions{})
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
