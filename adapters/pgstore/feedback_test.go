package pgstore_test

import (
	"testing"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/ports"
)

func TestFeedbackStoreContract(t *testing.T) {
	contracttest.RunFeedbackStore(t, func(t *testing.T) contracttest.FeedbackBackend {
		return newStore(t, pgstore.Options{})
	})
}

func TestExperimentStoreContract(t *testing.T) {
	contracttest.RunExperimentStore(t, func(t *testing.T) ports.ExperimentStore {
		return newStore(t, pgstore.Options{})
	})
}
