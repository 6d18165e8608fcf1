package inproc_test

import (
	"testing"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/ports"
)

func TestVectorIndexContract(t *testing.T) {
	contracttest.RunVectorIndex(t, func(t *testing.T) ports.VectorIndex { return inproc.NewVectorIndex() })
}
