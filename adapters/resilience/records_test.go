package resilience_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/resilience"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/ports"
	"github.com/engram-memory/engram/ports/intercept"
)

// feedbackBackend is the feedback store and query log, each guarded.
type feedbackBackend struct {
	ports.FeedbackStore
	ports.QueryLog
}

// The feedback, query-log and experiment ports, guarded like every other
// port, keep their contracts.
func TestDecoratedRecordsKeepTheContracts(t *testing.T) {
	open := func(t *testing.T) *sqlitestore.Store {
		st, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: filepath.Join(t.TempDir(), "engram.db")})
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	p := func() *resilience.Policy {
		return resilience.NewPolicy("sqlite", resilience.Options{Timeout: time.Minute})
	}
	t.Run("FeedbackStore", func(t *testing.T) {
		contracttest.RunFeedbackStore(t, func(t *testing.T) contracttest.FeedbackBackend {
			st, pol := open(t), p()
			return feedbackBackend{intercept.WrapFeedback(st, "sqlite", pol.Intercept), intercept.WrapQueryLog(st, "sqlite", pol.Intercept)}
		})
	})
	t.Run("ExperimentStore", func(t *testing.T) {
		contracttest.RunExperimentStore(t, func(t *testing.T) ports.ExperimentStore {
			return intercept.WrapExperiments(open(t), "sqlite", p().Intercept)
		})
	})
}
