package sqlitestore_test

import (
	"testing"

	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/ports"
)

func TestIndexDriftContract(t *testing.T) {
	contracttest.RunIndexDrift(t, func(t *testing.T) (ports.MemoryStore, contracttest.DriftIndex) {
		s := openSearchStore(t)
		return s, s.TextIndex()
	})
}
