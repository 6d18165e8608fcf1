package pgstore_test

import (
	"testing"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/ports"
)

func TestTextIndexContract(t *testing.T) {
	contracttest.RunTextIndex(t, func(t *testing.T) ports.TextIndex {
		return newStore(t, pgstore.Options{}).TextIndex(pgstore.TextOptions{})
	})
}

func TestTextIndexContractEnglish(t *testing.T) {
	contracttest.RunTextIndex(t, func(t *testing.T) ports.TextIndex {
		return newStore(t, pgstore.Options{}).TextIndex(pgstore.TextOptions{Language: "english"})
	})
}
