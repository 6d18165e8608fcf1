package resilience_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/resilience"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports/intercept"
)

// faultyStore is a real SQLite store that can be told to fail or to be
// slow, the way a database behind a dropped network or a lock would.
type faultyStore struct {
	intercept.Store
	failNext atomic.Int64 // calls that fail before the store answers again
	down     atomic.Bool  // every call fails
	delay    atomic.Int64 // nanoseconds each call waits (honouring ctx)
	calls    atomic.Int64
}

func openFaulty(t *testing.T) *faultyStore {
	t.Helper()
	st, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: filepath.Join(t.TempDir(), "engram.db")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	return &faultyStore{Store: st}
}

// enter is what every wrapped call goes through first.
func (f *faultyStore) enter(ctx context.Context) error {
	f.calls.Add(1)
	if d := time.Duration(f.delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return fmt.Errorf("faulty: %w", ctx.Err())
		}
	}
	if f.down.Load() {
		return &domain.UnavailableError{Dependency: "faulty", Err: fmt.Errorf("connection refused")}
	}
	if f.failNext.Add(-1) >= 0 {
		return fmt.Errorf("faulty: broken pipe: %w", domain.ErrUnavailable)
	}
	f.failNext.Store(0)
	return nil
}

func (f *faultyStore) Get(ctx context.Context, t domain.Tenant, id domain.MemoryID) (domain.Memory, error) {
	if err := f.enter(ctx); err != nil {
		return domain.Memory{}, err
	}
	return f.Store.Get(ctx, t, id)
}

func (f *faultyStore) Create(ctx context.Context, t domain.Tenant, m domain.Memory) (domain.Memory, bool, error) {
	if err := f.enter(ctx); err != nil {
		return domain.Memory{}, false, err
	}
	return f.Store.Create(ctx, t, m)
}

var tenant = domain.Tenant{OrgID: "org-1", UserID: "user-1"}

func newMemory(t *testing.T, text string) domain.Memory {
	t.Helper()
	m, err := domain.NewMemory(tenant, "test-app", text, nil, nil, time.Now())
	require.NoError(t, err)
	return m
}

// events records what the policies report, for assertions.
type events struct {
	retries atomic.Int64
	states  chan resilience.State
}

func (e *events) options(o resilience.Options) resilience.Options {
	e.states = make(chan resilience.State, 16)
	o.OnRetry = func(string, string) { e.retries.Add(1) }
	o.OnStateChange = func(_ string, s resilience.State) { e.states <- s }
	return o
}
